using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// The fakes drawn from Bogus's locale data (first-name, last-name, full-name, street-address, city, country, company,
/// phone-number): one keyed SipHash of the value picks the entries, so the same value gets the same fake everywhere.
/// </summary>
internal sealed class FakeTransformer : Transformer
{
    static readonly TransformerOption s_localeOption =
        new("locale", "Bogus locale of the fake data, e.g. en, de, fr.", "the run's locale");

    public static readonly TransformerKind FirstName = Fake("first-name", "A first name.", data => data.FirstNames);
    public static readonly TransformerKind LastName = Fake("last-name", "A last name.", data => data.LastNames);
    public static readonly TransformerKind FullName = Fake("full-name", "A first and a last name.", data => data.FirstNames, data => data.LastNames);
    public static readonly TransformerKind StreetAddress = Fake("street-address", "A street address (number and street).", data => data.StreetAddresses);
    public static readonly TransformerKind City = Fake("city", "A city name.", data => data.Cities);
    public static readonly TransformerKind Country = Fake("country", "A country name.", data => data.Countries);
    public static readonly TransformerKind Company = Fake("company", "A company name.", data => data.Companies);
    public static readonly TransformerKind PhoneNumber = Fake("phone-number", "A phone number in one of the locale's formats.", data => data.PhoneNumbers);

    readonly FakeList _first;
    readonly FakeList? _second;
    readonly SipKey _key;
    readonly TextShaper _shaper;
    readonly ByteBuilder _builder = new();

    FakeTransformer(FakeList first, FakeList? second, SipKey key, TextShaper shaper)
    {
        _first = first;
        _second = second;
        _key = key;
        _shaper = shaper;
    }

    static TransformerKind Fake(string name, string description, Func<LocaleData, FakeList> list, Func<LocaleData, FakeList>? second = null) => new(
        new TransformerDescriptor(name, description + " Deterministic per value; unique columns get a keyed suffix.", [s_localeOption],
            $"transformer: {name}\noptions:\n  locale: en"),
        setup =>
        {
            var data = setup.GetLocale();
            if (setup.ValidateOnly)
            {
                return null;
            }

            setup.RequireCategory("text");
            var shaper = TextShaper.Create(setup, setup.IsUnique(byDefault: false));
            return new FakeTransformer(list(data), second?.Invoke(data), setup.Keys.Pick, shaper);
        });

    /// <summary>
    /// A unique column's keyed suffix makes every output differ from its input: no chance match; nor, to speak of, from
    /// a pool of more than a million values (phone numbers, street addresses: digits multiply it).
    /// </summary>
    public override double? PoolSize => _shaper.Unique || _first.PoolSize * (_second?.PoolSize ?? 1) > 1e6 ? null : _first.PoolSize * (_second?.PoolSize ?? 1);

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        _builder.Clear();
        _first.Append(ref random, _builder);
        if (_second is not null)
        {
            _builder.Append((byte)' ');
            _second.Append(ref random, _builder);
        }

        return _shaper.Write(_builder.WrittenSpan, value, output);
    }
}
