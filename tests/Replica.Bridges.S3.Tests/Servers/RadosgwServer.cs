namespace Replica.Bridges.S3.Tests.Servers;

/// <summary>
/// A real S3 gateway: a one-node Ceph cluster (monitor, in-memory OSD) with radosgw on 127.0.0.1 and free ports,
/// started by the project's .ci/lib/radosgw-start.sh in a fresh CEPH_BASE (about 11 s) and stopped by radosgw-stop.sh.
/// Missing Ceph binaries fail the fixture with the apt-get command that installs them.
/// REPLICA_S3_KEEP=1 keeps CEPH_BASE (logs) after the tests.
/// </summary>
public sealed class RadosgwServer : S3Server
{
    public const string InstallCommand = "apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd";

    string? _cephBase;

    public override string Name => "radosgw";

    protected override int StartAttempts => 3;

    static string ScriptPath(string name) => Path.Combine(AppContext.BaseDirectory, "ci", name);

    protected override Task PrepareAsync()
    {
        var missing = new List<string>();
        foreach (string program in (string[])["radosgw", "ceph-mon", "ceph-osd", "monmaptool", "radosgw-admin", "ceph"])
        {
            if (ProcessRunner.FindOnPath(program) is null)
            {
                missing.Add(program);
            }
        }
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"Ceph radosgw is not installed ({string.Join(", ", missing)} missing from PATH); install it: {InstallCommand} (.ci/run does this).");
        }
        return Task.CompletedTask;
    }

    protected override async Task<bool> TryStartAsync(StartAttempt attempt)
    {
        int monPort = FreePort();
        _cephBase = Path.Combine(TempParent(), "replica-rgw-" + Guid.NewGuid().ToString("N")[..12]);
        ProcessOutput start = await ProcessRunner.RunAsync("bash", [ScriptPath("radosgw-start.sh")], new Dictionary<string, string?>
        {
            ["CEPH_BASE"] = _cephBase,
            ["RGW_PORT"] = attempt.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MON_PORT"] = monPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RGW_ACCESS_KEY"] = AccessKey,
            ["RGW_SECRET_KEY"] = SecretKey,
        }, throwOnError: false, timeout: TimeSpan.FromMinutes(5));
        if (start.ExitCode == 0)
        {
            return true;
        }
        // Exit code 2: a missing program or too little disk, which another try will not fix.
        if (start.ExitCode == 2 || attempt.IsLast)
        {
            throw new InvalidOperationException($"radosgw did not start (attempt {attempt.Number}, ports {attempt.Port}/{monPort}): {start.Describe()}");
        }
        await DisposeAsync();
        return false;
    }

    // The port is open once radosgw listens; its first S3 answers may still take a moment (pools being created).
    protected override Task WhenStartedAsync() =>
        WaitUntilServingAsync(TimeSpan.FromSeconds(60), () => true, () => $"logs in {_cephBase}/log");

    public override async Task DisposeAsync()
    {
        if (_cephBase is null)
        {
            return;
        }
        bool keep = Environment.GetEnvironmentVariable("REPLICA_S3_KEEP") == "1";
        string[] arguments = keep ? [ScriptPath("radosgw-stop.sh"), "--keep"] : [ScriptPath("radosgw-stop.sh")];
        await ProcessRunner.RunAsync("bash", arguments, new Dictionary<string, string?> { ["CEPH_BASE"] = _cephBase }, throwOnError: false,
            timeout: TimeSpan.FromMinutes(1));
        _cephBase = null;
    }
}
