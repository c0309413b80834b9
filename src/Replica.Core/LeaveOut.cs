namespace Replica;

/// <summary>
/// What a restore leaves out of the dump, as pg_restore's --no-owner and --no-privileges do, so that a plain role can
/// restore a dump whose objects belong to roles it is not (destination.no_owner, destination.no_privileges).
/// </summary>
[Flags]
public enum LeaveOut
{
    None = 0,
    /// <summary>ALTER ... OWNER TO role; MySQL: DEFINER = user@host. The objects belong to the restoring role.</summary>
    Owners = 1,
    /// <summary>GRANT, REVOKE, ALTER DEFAULT PRIVILEGES (PostgreSQL): only the restoring role's own rights.</summary>
    Privileges = 2,
}
