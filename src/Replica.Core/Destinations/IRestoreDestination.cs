namespace Replica.Destinations;

/// <summary>
/// Where a restored dump goes: a file, standard output, or a database through its client (psql, mysql). A destination takes the
/// bytes and applies them only on <see cref="CommitAsync"/>, so a failed restore leaves it as it was.
/// </summary>
public interface IRestoreDestination : IAsyncDisposable
{
    string Description { get; }

    /// <summary>Runs before the first byte: a database destination connects (and creates or wipes) here.</summary>
    Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The stream the restored SQL is written to.</summary>
    Stream Open();

    /// <summary>Makes the restore visible (renames the file into place, commits the transaction).</summary>
    Task CommitAsync(CancellationToken cancellationToken);

    /// <summary>What a database destination that refuses a privileged role tells the user to set instead.</summary>
    internal const string AllowPrivilegedRoleHint = "destination.allow_privileged_role: true if you trust every dump that can reach this bridge";
}

/// <summary>
/// Writes to a temporary file beside the target and renames it into place on commit; disposing without commit deletes
/// the temporary file, so an existing file is never half overwritten. The temporary file is created new (O_EXCL: never
/// opened through a symlink or over another file) with a name that holds the process id and a random part,
/// <c>.NAME.PID.RANDOM.partial</c>; those left by a restore that was killed are removed by the next restore to the same
/// path once their process is gone. A path that names a device, a FIFO or a socket (/dev/null, a named pipe) is written
/// in place as the bytes come, like standard output: renaming over it would replace /dev/null with a regular file. A
/// directory is refused.
/// <para>Permissions: a restored dump holds data, and replacing a file must not loosen what its owner set. The file that
/// replaces an existing one gets that file's permission bits (read again at commit, so a chmod during a long restore
/// holds); the temporary file is created with them from the start (umask may narrow them until then), never readable by
/// more users than the file it replaces, even for the length of the restore. The rename still makes the new file this
/// process's user's, and drops set-id bits, ACLs and extended attributes (as any write-then-rename does). A new file
/// gets 0666 less the umask, as <c>pg_dump -f</c>, <c>mysqldump &gt; file</c> and a shell redirection give it: the user's
/// umask says how private new files are (077 for 0600), and a masked dump is often meant to be shared.</para>
/// </summary>
public sealed class FileDestination(string path) : IRestoreDestination
{
    static readonly System.Buffers.SearchValues<char> s_lowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    readonly string _directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
    string? _temporary;
    FileStream? _stream;
    bool _committed;
    // The path is a device, FIFO or socket, written in place.
    bool _inPlace;

    public string Description => $"file {path}";

    public Stream Open()
    {
        switch (FileKinds.Of(path, out var permissions))
        {
            case FileKind.Directory:
                throw new BridgeException($"cannot write {path}: it is a directory");
            case FileKind.Other:
                // Not created, not truncated, not renamed: a device or pipe takes the bytes as they come.
                _stream = Write(path, FileMode.Open, FileShare.ReadWrite);
                _inPlace = true;
                return _stream;
        }
        RemoveStalePartials();
        var temporary = Path.Combine(_directory,
            $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}.partial");
        // Replacing a file: the temporary one is no more open than it from the start (see the class comment).
        _stream = Write(temporary, FileMode.CreateNew, FileShare.None, permissions == UnixFileMode.None ? null : permissions);
        _temporary = temporary;
        return _stream;
    }

    /// <param name="createMode">The permission bits of a file created (umask applies); null: 0666 less the umask.</param>
    FileStream Write(string file, FileMode mode, FileShare share, UnixFileMode? createMode = null)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = share, BufferSize = 1 << 16 };
        if (createMode is { } unixMode && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = unixMode;
        }
        try
        {
            return new FileStream(file, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BridgeException($"cannot write {path}: {e.Message}", e);
        }
    }

    /// <summary>.NAME.PID[.RANDOM].partial files of processes that no longer run on this machine.</summary>
    void RemoveStalePartials()
    {
        var prefix = $".{Path.GetFileName(path)}.";
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(_directory, prefix + "*.partial").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // Open reports what is wrong with the directory
        }
        foreach (var candidate in candidates)
        {
            var middle = Path.GetFileName(candidate)[prefix.Length..^".partial".Length];
            var dot = middle.IndexOf('.', StringComparison.Ordinal);
            var pidText = dot < 0 ? middle : middle[..dot];
            if (!int.TryParse(pidText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                || (dot >= 0 && middle.AsSpan(dot + 1).ContainsAnyExcept(s_lowerHex)) || Leftovers.IsRunning(pid))
            {
                continue;
            }
            try
            {
                File.Delete(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // best effort: another restore may be removing it too
            }
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_stream is not null)
        {
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (!_inPlace)
            {
                KeepPermissionsOfReplaced(_stream.SafeFileHandle);
            }
            _stream.Flush(flushToDisk: true);
            await _stream.DisposeAsync().ConfigureAwait(false);
            _stream = null;
        }
        if (_inPlace)
        {
            _committed = true;
            return;
        }
        try
        {
            File.Move(_temporary!, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BridgeException($"cannot move the restored dump into place at {path}: {e.Message}", e);
        }
        _committed = true;
    }

    /// <summary>
    /// Gives the temporary file the permission bits of the regular file it is about to replace, as they are now (through
    /// its handle: no path to race). Umask narrowed them when the file was created; a new file keeps what it got.
    /// </summary>
    void KeepPermissionsOfReplaced(Microsoft.Win32.SafeHandles.SafeFileHandle temporary)
    {
        if (OperatingSystem.IsWindows() || FileKinds.Of(path, out var permissions) != FileKind.Regular)
        {
            return;
        }
        try
        {
            File.SetUnixFileMode(temporary, permissions);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BridgeException($"cannot give the restored dump the permissions of {path}: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        if (!_committed && _temporary is not null)
        {
            File.Delete(_temporary);
        }
    }
}

/// <summary>Standard output: bytes go out as they come (a pipe cannot be rolled back; the exit code tells).</summary>
public sealed class StandardOutputDestination : IRestoreDestination
{
    Stream? _stream;

    public string Description => "stdout";

    /// <summary>
    /// File descriptor 1 itself: the console stream of .NET drops a write to a closed pipe without a word (EPIPE), so
    /// <c>replica restore | head</c> would look like a complete restore. Here the write fails, and the restore with it.
    /// </summary>
    public Stream Open() => _stream = OperatingSystem.IsWindows()
        ? Console.OpenStandardOutput()
        : new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_stream is not null)
        {
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
