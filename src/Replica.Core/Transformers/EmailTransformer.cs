using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// email: an address built from ASCII fake names at a domain nobody receives mail for (example.com/.org/.net unless
/// configured). E-mail addresses are identities, so unless the config says unique: false the local part carries the
/// keyed <see cref="UniqueSuffix"/> and distinct inputs stay distinct.
/// </summary>
internal sealed class EmailTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("email",
            "A fake e-mail address (first.last@example.com). Unique by default: a keyed suffix in the local part keeps " +
            "distinct inputs distinct; set unique: false on the column to drop it.",
            [
                new TransformerOption("domain", "Domain of every address.", "example.com, example.org or example.net"),
                new TransformerOption("locale", "Bogus locale of the names (ASCII names only; else en).", "the run's locale"),
            ],
            "transformer: email\noptions:\n  domain: example.com"),
        Build);

    // An RFC 5321 local part holds at most 64 characters.
    const int MaxLocalLength = 64;

    readonly LocaleData _data;
    readonly byte[][] _domains;
    readonly SipKey _key;
    readonly bool _unique;
    readonly SipKey _uniqueKey;
    readonly int _maxLength;
    readonly ByteBuilder _builder = new();

    EmailTransformer(LocaleData data, byte[][] domains, SipKey key, bool unique, SipKey uniqueKey, int maxLength)
    {
        _data = data;
        _domains = domains;
        _key = key;
        _unique = unique;
        _uniqueKey = uniqueKey;
        _maxLength = maxLength;
    }

    static EmailTransformer? Build(TransformerSetup setup)
    {
        var domain = setup.GetString("domain");
        if (domain is not null && (domain.Length == 0 || domain.Contains('@') || domain.Any(char.IsWhiteSpace)))
        {
            throw setup.OptionError("domain", $"must be a domain name such as example.com, not {setup.Shown("domain", domain)}");
        }

        var data = setup.GetLocale();
        if (setup.ValidateOnly)
        {
            return null;
        }

        setup.RequireCategory("text (an e-mail address)");
        bool unique = setup.IsUnique(byDefault: true);
        if (unique && !TransformerSetup.IsTextLike(setup.ColumnOrThrow.Category))
        {
            throw setup.ColumnError("cannot keep a unique column of this type unique");
        }

        int max = setup.ColumnOrThrow.MaxLength ?? int.MaxValue;
        int fixedPart = 1 + 1 + (unique ? UniqueSuffix.LengthWithSeparator : 0); // one local character, '@', suffix
        var candidates = domain is null ? data.ExampleDomains : [Encoding.UTF8.GetBytes(domain)];
        var domains = candidates.Where(d => d.Length + fixedPart <= max).ToArray();
        if (domains.Length == 0)
        {
            int shortest = candidates.Min(d => d.Length);
            throw setup.ColumnError(
                $"needs at least {shortest + fixedPart} characters for an address" +
                (unique ? $" with its {UniqueSuffix.Length}-character unique suffix" : "") + $", but the column holds {max}");
        }

        return new EmailTransformer(data, domains, setup.Keys.Pick, unique, setup.Keys.Unique, max);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        _builder.Clear();
        NameSlug.AppendPersonal(ref random, _data, _builder, forEmail: true);
        var domain = _domains[random.NextBelow(_domains.Length)];

        int suffixLength = _unique ? UniqueSuffix.LengthWithSeparator : 0;
        int localLength = Math.Min(_builder.Length, MaxLocalLength - suffixLength);
        localLength = Math.Min(localLength, _maxLength - suffixLength - 1 - domain.Length);
        if (localLength > 0 && _builder.WrittenSpan[localLength - 1] is (byte)'.' or (byte)'_')
        {
            localLength--; // a local part must not end with a dot
        }

        int total = localLength + suffixLength + 1 + domain.Length;
        var span = output.GetSpan(total);
        _builder.WrittenSpan[..localLength].CopyTo(span);
        int offset = localLength;
        if (_unique)
        {
            span[offset++] = UniqueSuffix.Separator;
            UniqueSuffix.Write(_uniqueKey, value, span.Slice(offset, UniqueSuffix.Length));
            offset += UniqueSuffix.Length;
        }

        span[offset++] = (byte)'@';
        domain.CopyTo(span[offset..]);
        output.Advance(total);
        return TransformResult.Value;
    }
}

/// <summary>username: a login built from ASCII fake names; unique by default, like email.</summary>
internal sealed class UsernameTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("username",
            "A fake username (jane.doe, jdoe42). Unique by default: a keyed suffix keeps distinct inputs distinct; set " +
            "unique: false on the column to drop it.",
            [new TransformerOption("locale", "Bogus locale of the names (ASCII names only; else en).", "the run's locale")],
            "transformer: username"),
        Build);

    readonly LocaleData _data;
    readonly SipKey _key;
    readonly TextShaper _shaper;
    readonly ByteBuilder _builder = new();

    UsernameTransformer(LocaleData data, SipKey key, TextShaper shaper)
    {
        _data = data;
        _key = key;
        _shaper = shaper;
    }

    static UsernameTransformer? Build(TransformerSetup setup)
    {
        var data = setup.GetLocale();
        if (setup.ValidateOnly)
        {
            return null;
        }

        setup.RequireCategory("text (a username)");
        return new UsernameTransformer(data, setup.Keys.Pick, TextShaper.Create(setup, setup.IsUnique(byDefault: true)));
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        _builder.Clear();
        NameSlug.AppendPersonal(ref random, _data, _builder, forEmail: false);
        return _shaper.Write(_builder.WrittenSpan, value, output);
    }
}

/// <summary>The shapes of personal logins: jane.doe, janedoe, jdoe, jane_doe, jane.doe42, jane42.</summary>
internal static class NameSlug
{
    public static void AppendPersonal(ref HashStream random, LocaleData data, ByteBuilder builder, bool forEmail)
    {
        var first = data.FirstNameSlugs[random.NextBelow(data.FirstNameSlugs.Length)];
        var last = data.LastNameSlugs[random.NextBelow(data.LastNameSlugs.Length)];
        switch (random.NextBelow(6))
        {
            case 0:
                builder.Append(first);
                builder.Append((byte)'.');
                builder.Append(last);
                break;
            case 1:
                builder.Append(first);
                builder.Append(last);
                break;
            case 2:
                builder.Append(first[0]);
                builder.Append(last);
                break;
            case 3:
                builder.Append(first);
                builder.Append(forEmail ? (byte)'_' : (byte)'.');
                builder.Append(last);
                break;
            case 4:
                builder.Append(first);
                builder.Append((byte)'.');
                builder.Append(last);
                AppendTwoDigits(ref random, builder);
                break;
            default:
                builder.Append(first);
                AppendTwoDigits(ref random, builder);
                break;
        }
    }

    static void AppendTwoDigits(ref HashStream random, ByteBuilder builder)
    {
        int number = 10 + random.NextBelow(90);
        builder.Append((byte)('0' + number / 10));
        builder.Append((byte)('0' + number % 10));
    }
}
