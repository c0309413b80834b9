using System.CommandLine;
using Replica.Codecs.Encryption;

namespace Replica.Cli.Commands;

internal static class KeygenCommand
{
    public static Command Create()
    {
        var directory = new Option<string>("--out", "-o")
        {
            Description = "Directory to write <name>.key.pem (private, mode 0600) and <name>.pub.pem into.",
            DefaultValueFactory = _ => ".",
        };
        var name = new Option<string>("--name", "-n") { Description = "Base name of the files.", DefaultValueFactory = _ => "replica" };
        var algorithm = new Option<string>("--algorithm", "-a")
        {
            Description = "rsa-3072, ecdh-p256 or ecdh-p384.",
            DefaultValueFactory = _ => "ecdh-p256",
        };
        algorithm.AcceptOnlyFromAmong("rsa-3072", "ecdh-p256", "ecdh-p384");
        var command = new Command("keygen", """
            Writes a key pair for public-key encryption of dumps. Put the public key in bridge.encryption.recipients on the
            machine that makes dumps (it cannot read them back), and the private key in bridge.encryption.private_key_file
            where dumps are restored. Existing files are never overwritten.

            Examples:
              replica keygen --out ~/.replica --name ops
              replica keygen --algorithm rsa-3072
            """)
        {
            directory, name, algorithm,
        };
        // A name with a path in it would write outside --out: a usage error (exit 1). KeyGenerator refuses it too.
        name.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is null || value.Length == 0 || value is "." or ".." || value.IndexOfAny(['/', '\\', '\0']) >= 0)
            {
                result.AddError($"--name '{value}' is not a plain file name: give a base name such as ops, and the folder with --out");
            }
        });
        command.SetAction((parse, _) => CommonOptions.RunAsync(() =>
        {
            var pair = KeyGenerator.WriteToDirectory(parse.GetValue(directory)!, parse.GetValue(algorithm)!, parse.GetValue(name)!);
            Console.Out.WriteLine($"private key: {pair.PrivateKeyPath}");
            Console.Out.WriteLine($"public key:  {pair.PublicKeyPath}");
            Console.Out.WriteLine($"key id:      {pair.KeyId}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
