//! Giving up root: `drop_privileges(user)` for `-Z USER`, and the process's
//! current capabilities.
//!
//! Sockets opened before the drop keep working (the kernel checked the
//! capability when they were created), so the capture path is: open every
//! socket, then drop, then read frames.

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// The capability sets of this process (from `/proc/self/status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Effective set.
    pub effective: u64,
    /// Permitted set.
    pub permitted: u64,
    /// Bounding set.
    pub bounding: u64,
    /// Ambient set.
    pub ambient: u64,
}

impl CapSets {
    /// Reads the sets of the calling thread.
    pub fn current() -> Result<CapSets> {
        let s = std::fs::read_to_string("/proc/thread-self/status")
            .or_else(|_| std::fs::read_to_string("/proc/self/status"))
            .map_err(|e| Error::io("reading /proc/self/status", e))?;
        let field = |name: &str| {
            s.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or(0)
        };
        Ok(CapSets {
            effective: field("CapEff:"),
            permitted: field("CapPrm:"),
            bounding: field("CapBnd:"),
            ambient: field("CapAmb:"),
        })
    }

    /// Whether CAP_NET_RAW is effective (needed to open packet sockets).
    pub fn net_raw(&self) -> bool {
        self.effective & (1 << CAP_NET_RAW) != 0
    }

    /// Whether CAP_NET_ADMIN is effective (interface settings, namespaces,
    /// hardware timestamps).
    pub fn net_admin(&self) -> bool {
        self.effective & (1 << CAP_NET_ADMIN) != 0
    }
}

/// Who the process became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The new user id (real, effective and saved).
    pub uid: u32,
    /// The new group id (real, effective and saved; the only group).
    pub gid: u32,
}

/// Becomes `user` for good: supplementary groups replaced by the user's
/// primary group, then gid and uid set (real, effective and saved, in every
/// thread), no capabilities kept, `no_new_privs` set. Then checks the
/// result: every id changed, `setuid(0)` refused, no capability left. Any
/// failure is an error, and the caller must not go on as root.
pub fn drop_privileges(user: &str) -> Result<Dropped> {
    let pw = sys::getpwnam(user)
        .map_err(|e| Error::io(format!("looking up user {user:?}"), e))?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NoSuchUser,
                format!("no user named {user:?} to drop privileges to"),
            )
        })?;
    let step = |what: &str, r: std::io::Result<()>| {
        r.map_err(|e| Error::io(format!("dropping privileges to {user}: {what}"), e))
    };
    step("clearing keep-caps", sys::clear_keepcaps())?;
    step("setgroups", sys::setgroups(&[pw.gid]))?;
    step("setresgid", sys::setresgid(pw.gid))?;
    step("setresuid", sys::setresuid(pw.uid))?;
    step("setting no_new_privs", sys::set_no_new_privs())?;
    verify(user, pw.uid, pw.gid)?;
    Ok(Dropped {
        uid: pw.uid,
        gid: pw.gid,
    })
}

fn verify(user: &str, uid: u32, gid: u32) -> Result<()> {
    let kept = |what: String| {
        Err(Error::new(
            ErrorKind::PrivilegesKept,
            format!("dropping privileges to {user}: {what}"),
        ))
    };
    let ids = sys::getresuid().map_err(|e| Error::io("getresuid", e))?;
    if ids != (uid, uid, uid) {
        return kept(format!("user ids are {ids:?}, not {uid}"));
    }
    let gids = sys::getresgid().map_err(|e| Error::io("getresgid", e))?;
    if gids != (gid, gid, gid) {
        return kept(format!("group ids are {gids:?}, not {gid}"));
    }
    let groups = sys::getgroups().map_err(|e| Error::io("getgroups", e))?;
    if groups.iter().any(|&g| g != gid) {
        return kept(format!("supplementary groups {groups:?} remain"));
    }
    if uid != 0 {
        if sys::setuid(0).is_ok() {
            return kept("setuid(0) succeeded: root can be regained".into());
        }
        let caps = CapSets::current()?;
        if caps.effective != 0 || caps.permitted != 0 || caps.ambient != 0 {
            return kept(format!(
                "capabilities remain (effective {:#x}, permitted {:#x}, ambient {:#x})",
                caps.effective, caps.permitted, caps.ambient
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_user_is_a_clear_error() {
        let e = drop_privileges("no-such-user-sluice").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoSuchUser);
        assert!(e.to_string().contains("no-such-user-sluice"));
    }

    #[test]
    fn capability_sets_are_read() {
        let c = CapSets::current().unwrap();
        // Whatever we run as, the bounding set is never empty on Linux.
        assert_ne!(c.bounding, 0);
    }
}
