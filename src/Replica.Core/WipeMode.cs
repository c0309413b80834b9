namespace Replica;

/// <summary>What a restore into a database clears first ('destination.wipe' or --wipe).</summary>
public enum WipeMode
{
    /// <summary>Restore on top of what is there; a conflicting table fails the restore, which changes nothing.</summary>
    None,
    /// <summary>Drop the schemas the dump creates (and public) inside the restore's transaction.</summary>
    Schemas,
    /// <summary>Restore into a new database and swap it in place of the old one when the restore succeeded.</summary>
    Database,
}
