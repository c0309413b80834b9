namespace Replica.Codecs.Encryption;

/// <summary>
/// The supplied passphrase, key or private key does not open a dump's data key. Raised by
/// <see cref="DumpEncryption.Open"/> before any chunk is decrypted, so nothing has been written yet. Shares the integrity
/// exit code: the CLI cannot tell a wrong key from an altered encryption header, and neither can the cryptography.
/// The message names which key was tried (its origin: "the passphrase", an environment variable, a file), never its value.
/// </summary>
public sealed class WrongKeyException : ReplicaException
{
    public WrongKeyException(string message) : base(message) { }

    public override ReplicaErrorKind Kind => ReplicaErrorKind.Integrity;
}
