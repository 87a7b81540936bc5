//! Writing a file so that a reader never sees half of it: the JUnit and JSON
//! reports and smoke.lock. A temp file beside the target, synced, then
//! renamed over it; the target is either the old file or the new one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file sits where a folder of the target's path must be. Carried inside
/// the `io::Error` so the caller can pick its hint by type, not by text.
#[derive(Debug, thiserror::Error)]
#[error("cannot create folder {}: {} is a file, not a folder", .dir.display(), .file.display())]
pub struct FileInTheWay {
    /// The folder that could not be created.
    pub dir: PathBuf,
    /// The file in its place (the folder itself or one of its parents).
    pub file: PathBuf,
}

/// The [`FileInTheWay`] inside `e`, if that is what went wrong.
pub fn file_in_the_way(e: &io::Error) -> Option<&FileInTheWay> {
    e.get_ref()?.downcast_ref::<FileInTheWay>()
}

/// Write `bytes` to `path` atomically: a temp file beside it (parent
/// folders created), flushed and synced, then renamed over `path`. On any
/// failure the temp file is removed and `path` is left as it was. The file
/// is 0644 on Unix: reports and smoke.lock are read by others (the CI
/// runner's uploader, reviewers).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // The caller names the target; say which step failed.
    let step = |what: String| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        // "File exists" says little: name the file that is in the way.
        match dir.ancestors().find(|a| a.is_file()) {
            Some(file) => io::Error::new(
                e.kind(),
                FileInTheWay {
                    dir: dir.to_path_buf(),
                    file: file.to_path_buf(),
                },
            ),
            None => step(format!("cannot create folder {}", dir.display()))(e),
        }
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(step(format!(
            "cannot create a temp file in {}",
            dir.display()
        )))?;
    let writing = || step("cannot write the temp file".to_string());
    tmp.write_all(bytes).map_err(writing())?;
    tmp.flush().map_err(writing())?;
    tmp.as_file().sync_all().map_err(writing())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(writing())?;
    }
    tmp.persist(path)
        .map_err(|e| step("cannot rename the temp file over it".to_string())(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_is_typed_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("reports");
        std::fs::write(&blocker, "not a folder").unwrap();
        let e = write_atomic(&blocker.join("sub/junit.xml"), b"x").unwrap_err();
        let typed = file_in_the_way(&e).expect("typed");
        assert_eq!(typed.file, blocker);
        assert!(
            e.to_string().ends_with("is a file, not a folder"),
            "the message is unchanged: {e}"
        );
    }

    #[test]
    fn the_target_is_replaced_whole_and_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/report.xml");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // No temp file left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // Another error is not mistaken for a file in the way.
        let e = write_atomic(Path::new("/proc/no-such/x"), b"x").unwrap_err();
        assert!(file_in_the_way(&e).is_none(), "{e}");
    }
}
