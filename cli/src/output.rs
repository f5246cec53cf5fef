//! Opening a named output file (`batch -o`, `synth -o`), which is often last run's.
//!
//! Why not simply truncate it: on ext4, Linux's usual file system, truncating a file
//! still holding last run's pages frees them all inside `open` (68 ms for the 378 MB of
//! a 100,000-household batch), and marks the file as rewritten in place, so that its
//! `close` then allocates disk blocks for every new page and starts writing them before
//! it returns (the `auto_da_alloc` safeguard: 129 ms for the same file). Both happen on
//! one thread while the other cores wait: a fifth of that batch's time
//! (docs/performance.md, eleventh session).
//!
//! So a file that is plainly ours is replaced rather than truncated: its name is
//! removed, a new file made under it with the same permissions, and the old pages are
//! freed by a thread of their own while the batch runs. What the two ways would not do
//! alike is left to truncation: a symbolic link (truncating writes through it), a file
//! with other names (hard links see the new content), one of another owner or group,
//! anything but a regular file (`/dev/null`, a pipe), a file we may not write (made
//! read-only: truncation fails on it), a folder we may not write in. Like
//! a truncated file, a replaced one is emptied before the first line is written; a
//! reader holding the old file open keeps reading the old content.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for writing from its start, creating it if needed: [`File::create`],
/// replacing rather than truncating a non-empty regular file of our own (module docs).
pub fn create(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    if let Some(file) = replace(path) {
        return Ok(file);
    }
    File::create(path)
}

/// The new file, or `None` (nothing changed, or only the old file's name removed when a
/// new one then could not be made exclusively) to leave `path` to [`File::create`].
#[cfg(unix)]
fn replace(path: &Path) -> Option<File> {
    use std::fs::{self, OpenOptions, Permissions};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

    let meta = fs::symlink_metadata(path).ok()?;
    // SAFETY: geteuid and getegid take nothing and cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if !meta.file_type().is_file()
        || meta.len() == 0
        || meta.nlink() != 1
        || meta.uid() != uid
        || meta.gid() != gid
        || meta.mode() & 0o200 == 0
    {
        return None;
    }
    // Held open while the name goes, so that the last close — where the kernel frees
    // the pages — happens on the thread below, not inside `remove_file`.
    let old = File::open(path).ok()?;
    // The same file as looked at (not one swapped in since).
    let held = old.metadata().ok()?;
    if held.dev() != meta.dev() || held.ino() != meta.ino() {
        return None;
    }
    fs::remove_file(path).ok()?;
    let mode = meta.mode() & 0o777;
    // `create_new`: if something else took the name meanwhile, it is not ours to
    // replace; `File::create` then truncates it as before.
    let new = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .ok();
    if let Some(f) = &new {
        // The mode given at creation is narrowed by the umask; truncation keeps it whole.
        // A folder with the set-group-id bit gives a new file its own group: keep ours.
        let _ = f.set_permissions(Permissions::from_mode(mode));
        if f.metadata().is_ok_and(|m| m.gid() != gid) {
            let _ = std::os::unix::fs::fchown(f, None, Some(gid));
        }
    }
    // Not joined: the process may end first, and the kernel then closes it all the same.
    let _ = std::thread::Builder::new()
        .name("free-old-output".into())
        .spawn(move || drop(old));
    new
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn write(path: &Path, text: &str) {
        create(path).unwrap().write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn a_file_of_ours_is_replaced_keeping_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        fs::write(&path, "last run, a longer text\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let before = fs::metadata(&path).unwrap().ino();
        // A reader of the old file keeps reading it.
        let reader = File::open(&path).unwrap();

        write(&path, "new\n");

        let meta = fs::metadata(&path).unwrap();
        assert_ne!(meta.ino(), before, "replaced, not truncated");
        assert_eq!(meta.mode() & 0o777, 0o640);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(
            io::read_to_string(reader).unwrap(),
            "last run, a longer text\n"
        );
    }

    #[test]
    fn a_new_or_empty_file_is_created_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        write(&path, "first\n");
        assert_eq!(fs::read_to_string(&path).unwrap(), "first\n");

        let empty = dir.path().join("empty.jsonl");
        fs::write(&empty, "").unwrap();
        let ino = fs::metadata(&empty).unwrap().ino();
        write(&empty, "x\n");
        assert_eq!(
            fs::metadata(&empty).unwrap().ino(),
            ino,
            "nothing to free: truncated"
        );
        assert_eq!(fs::read_to_string(&empty).unwrap(), "x\n");
    }

    #[test]
    fn a_symlink_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.jsonl");
        let link = dir.path().join("link.jsonl");
        fs::write(&target, "old content\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();

        write(&link, "new\n");

        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
    }

    #[test]
    fn a_file_with_another_name_is_truncated_for_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let other = dir.path().join("hard-link.jsonl");
        fs::write(&path, "old content\n").unwrap();
        fs::hard_link(&path, &other).unwrap();

        write(&path, "new\n");

        assert_eq!(fs::read_to_string(&other).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&path).unwrap().ino(),
            fs::metadata(&other).unwrap().ino()
        );
    }

    #[test]
    fn a_read_only_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        fs::write(&path, "kept\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        let ino = fs::metadata(&path).unwrap().ino();
        // Refused as truncation refuses it; root may truncate it, but it stays the file.
        if let Ok(mut f) = create(&path) {
            f.write_all(b"new\n").unwrap();
            assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
        } else {
            assert_eq!(fs::read_to_string(&path).unwrap(), "kept\n");
        }
    }

    #[test]
    fn dev_null_stays() {
        write(Path::new("/dev/null"), "discarded\n");
        assert!(!fs::metadata("/dev/null").unwrap().file_type().is_file());
    }
}
