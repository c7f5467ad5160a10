//! The commands: each a short sequence of stage calls, one file each. `lib.rs` dispatches to
//! them; the stages they call do the work.

pub mod check;
pub mod init;
pub mod repair;
pub mod sync;
pub mod verify;
