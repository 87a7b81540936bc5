//! What every command shares: `--help` with examples, `--version`, shell
//! completions, and no panic when the reader of stdout goes away.

use crate::support::sfsmoke;

/// Every subcommand's --help has examples; --version is Cargo.toml's; each
/// shell's completion script is non-empty and names the binary (bash's
/// parses with `bash -n` when bash is installed).
#[test]
fn help_version_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "smoke",
        "sim",
        "demo",
        "validate",
        "init",
        "explain",
        "snapshot",
        "completions",
    ] {
        let out = sfsmoke(dir.path()).args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{sub} --help: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("EXAMPLES:"), "{sub} --help:\n{stdout}");
        assert!(
            stdout.contains(&format!("sfsmoke {sub}")),
            "{sub} --help:\n{stdout}"
        );
    }

    let out = sfsmoke(dir.path()).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let cargo_toml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let version = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("version in Cargo.toml");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("sfsmoke {version}\n")
    );

    let bash = std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = sfsmoke(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        assert!(script.contains("sfsmoke"), "{shell}:\n{script}");
        if shell == "bash" {
            if bash {
                let file = dir.path().join("sfsmoke.bash");
                std::fs::write(&file, &script).unwrap();
                let check = std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    check.status.success(),
                    "bash -n rejects the script: {}",
                    String::from_utf8_lossy(&check.stderr)
                );
            } else {
                crate::support::skipped(
                    "bash not installed: the bash completion script was not parsed",
                );
            }
        }
    }
}

/// A reader that goes away (`sfsmoke sim --list-scenarios | head -1`) must not
/// make sfsmoke panic: stdout writes ignore a closed pipe.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = sfsmoke(dir.path())
        .args(["sim", "--list-scenarios"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfsmoke starts");
    // Close the read end before sfsmoke writes: its writes get EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("sfsmoke ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}
