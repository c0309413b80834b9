using System.Security.Cryptography;

namespace Replica.Codecs.Encryption;

/// <summary>The files <see cref="KeyGenerator"/> wrote, and the key id the dumps' key slots will name.</summary>
public sealed record GeneratedKeyPair(string PrivateKeyPath, string PublicKeyPath, string Algorithm, string KeyId);

/// <summary>
/// Writes a recipient key pair for <c>replica keygen</c>: the public key (PEM "PUBLIC KEY") goes to the dumping machine,
/// the private key (PEM "PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" under a passphrase) stays with whoever restores.
/// The private key file is created with mode 0600 on Unix. Existing files are never overwritten.
/// </summary>
public static class KeyGenerator
{
    public const string Rsa3072 = "rsa-3072";
    public const string EcdhP256 = "ecdh-p256";
    public const string EcdhP384 = "ecdh-p384";

    /// <summary>The algorithms <see cref="Write"/> accepts.</summary>
    public static IReadOnlyList<string> Algorithms { get; } = [Rsa3072, EcdhP256, EcdhP384];

    /// <summary>
    /// Writes <c>{baseName}.key.pem</c> (private) and <c>{baseName}.pub.pem</c> (public) into <paramref name="directory"/>.
    /// The base name is a plain file name: nothing is ever written outside the directory.
    /// </summary>
    public static GeneratedKeyPair WriteToDirectory(string directory, string algorithm, string baseName = "replica",
        ReadOnlySpan<char> passphrase = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(baseName);
        if (!IsPlainFileName(baseName))
        {
            throw new ConfigException(
                $"the key name '{baseName}' is not a plain file name: it names the files inside the output directory, so it " +
                "may not be empty, '.' or '..', nor contain '/', '\\' or control characters", key: "name");
        }
        return Write(Path.Combine(directory, baseName + ".key.pem"), Path.Combine(directory, baseName + ".pub.pem"), algorithm, passphrase);
    }

    static bool IsPlainFileName(string name) =>
        name.Length > 0 && name is not ("." or "..") && name.IndexOfAny(['/', '\\']) < 0 && !name.Any(char.IsControl) &&
        !Path.IsPathRooted(name) && Path.GetFileName(name) == name;

    /// <summary>
    /// Generates a key pair and writes both files. With a <paramref name="passphrase"/>, the private key is stored as
    /// encrypted PKCS#8 (PBKDF2-HMAC-SHA256, 600000 iterations, AES-256-CBC).
    /// </summary>
    public static GeneratedKeyPair Write(string privateKeyPath, string publicKeyPath, string algorithm,
        ReadOnlySpan<char> passphrase = default)
    {
        ArgumentNullException.ThrowIfNull(privateKeyPath);
        ArgumentNullException.ThrowIfNull(publicKeyPath);
        if (!Algorithms.Contains(algorithm))
        {
            throw new ConfigException($"unknown key algorithm '{algorithm}'; use one of {string.Join(", ", Algorithms)}");
        }
        foreach (string path in (ReadOnlySpan<string>)[privateKeyPath, publicKeyPath])
        {
            if (File.Exists(path))
            {
                throw new ConfigException("the file already exists; keygen never overwrites a key", file: path);
            }
        }

        using AsymmetricAlgorithm key = algorithm == Rsa3072
            ? RSA.Create(3072)
            : ECDiffieHellman.Create(algorithm == EcdhP256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
        byte[] spki = key.ExportSubjectPublicKeyInfo();
        byte[] privateDer = passphrase.IsEmpty
            ? key.ExportPkcs8PrivateKey()
            : key.ExportEncryptedPkcs8PrivateKey(passphrase,
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, EncryptionKeys.DefaultPbkdf2Iterations));
        bool privateWritten = false;
        try
        {
            KeyFiles.WritePem(privateKeyPath, passphrase.IsEmpty ? "PRIVATE KEY" : "ENCRYPTED PRIVATE KEY", privateDer, secret: true);
            privateWritten = true;
            KeyFiles.WritePem(publicKeyPath, "PUBLIC KEY", spki, secret: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (privateWritten)
            {
                File.Delete(privateKeyPath); // no half-written pair: a private key without its public key is useless
            }
            throw new BridgeException($"Cannot write the key pair: {ex.Message}", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateDer);
        }
        return new GeneratedKeyPair(privateKeyPath, publicKeyPath, algorithm, KeyFiles.KeyIdOf(spki));
    }
}
