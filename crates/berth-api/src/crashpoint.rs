//! Named crash points, for crash tests only: `reached("provision:after-mkfs")` kills the
//! process with `SIGKILL` when the environment variable `BERTH_CRASH_AT` names that point, and
//! does nothing otherwise. The end-to-end crash tests start the server with the variable set,
//! drive the operation that reaches the point, and check that a restart recovers.
//!
//! The kill is a real `kill -9` of the process itself: no destructor runs, nothing is flushed,
//! no task gets to finish its write. The variable is read once; when it is unset a crash point
//! costs one atomic load and a comparison. This is the only module of this crate that touches
//! the process (its environment, a signal); it lives here so that every crate can place
//! crash points.

use std::sync::OnceLock;

/// The environment variable naming the crash point to die at.
pub const ENV: &str = "BERTH_CRASH_AT";

/// The crash point this process dies at, read once from [`ENV`].
static ARMED: OnceLock<Option<String>> = OnceLock::new();

/// Whether `name` is the point a process armed with `armed` dies at.
fn fires(armed: Option<&str>, name: &str) -> bool {
    armed.is_some_and(|a| !a.is_empty() && a == name)
}

/// Marks the crash point `name`: when [`ENV`] names it, prints one line to stderr and kills
/// the whole process at once with `SIGKILL`; otherwise returns.
pub fn reached(name: &str) {
    let armed = ARMED.get_or_init(|| std::env::var(ENV).ok());
    if !fires(armed.as_deref(), name) {
        return;
    }
    eprintln!("berth: crash point {name} reached, killing the process");
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    // Not reached: SIGKILL cannot be caught. Should the kill fail, die without unwinding still.
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_or_other_name_does_nothing() {
        assert!(!fires(None, "provision:after-marker"));
        assert!(!fires(Some(""), ""));
        assert!(!fires(Some("provision:after-mkfs"), "provision:after-marker"));
        assert!(!fires(Some("provision:after-marker"), "provision:after-marker-x"));
        assert!(fires(Some("provision:after-marker"), "provision:after-marker"));
        // This test process is not armed for this name: the call returns.
        reached("crashpoint:unit-test-never-armed");
    }
}
