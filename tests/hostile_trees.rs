//! The three promises as a property over hostile trees: random pages referencing random files
//! with odd names (newline, tab, `#`, `=`, look-alike Unicode, non-UTF-8 on Linux), links to
//! images and folders outside the root, FIFOs, text behind image signatures, scripted SVGs, a
//! linked folder in the out tree, and random config values. For every tree, `sync` (in place or
//! with `--out`) must:
//! - not panic, and exit with a documented code (0, 1, 2 or 3);
//! - write nothing outside the pages, the out tree, the store and imglift's own state files;
//! - change nothing outside the site root;
//! - store only images from inside the root (never the outside image, never text, never a
//!   scripted SVG unless allowed);
//! - print no secret from the environment.
//!
//! A modest number of cases by default; `PROPTEST_CASES=N` runs more, and CI fixes the seed
//! (`PROPTEST_RNG_SEED` in `.ci/run`).

#![cfg(unix)]

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use support::{fixture_bytes, symlink, PUBLIC_URL};

const SECRET: &str = "HUNTER2hostile/secret+value==";
const TOKEN: &str = "IQoJb3/Hostile+Token==";

/// Names a hostile pull request could use, as they would be written in a page (the last ones
/// cannot be referenced from UTF-8 text and only sit in the tree).
fn names() -> Vec<OsString> {
    let mut names: Vec<OsString> = [
        "a.png",
        "my pic.png",
        "tab\tname.png",
        "new\nline.png",
        "#hash.png",
        "=======.png",
        "k=v,x:y.png",
        "е.png",  // Cyrillic e
        "ｅ.png", // fullwidth e
        "cafe\u{301}.png",
        "café.png",
        "p%20q.png",
        "evil\n::error file=a::b.png",
        "x.svg",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if cfg!(target_os = "linux") {
        names.push(OsString::from_vec(b"caf\xe9.png".to_vec()));
        names.push(OsString::from_vec(b"caf\xe8.png".to_vec()));
    }
    names
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Png,
    OtherPng,
    Bmw,
    ScriptSvg,
    CleanSvg,
    LinkOutsideImage,
    LinkOutsideDir,
    LinkInside,
    Fifo,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Png),
        Just(Kind::OtherPng),
        Just(Kind::Bmw),
        Just(Kind::ScriptSvg),
        Just(Kind::CleanSvg),
        Just(Kind::LinkOutsideImage),
        Just(Kind::LinkOutsideDir),
        Just(Kind::LinkInside),
        Just(Kind::Fifo),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    /// (folder, name, kind) for each file.
    files: Vec<(bool, usize, Kind)>,
    /// Each page: (folder, references by name index, how each is written).
    pages: Vec<(bool, Vec<(usize, u8)>)>,
    out: bool,
    out_link: bool,
    allow_svg_scripts: bool,
    key: usize,
    extra_content: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let n = names().len();
    (
        prop::collection::vec((any::<bool>(), 0..n, kind()), 1..10),
        prop::collection::vec(
            (any::<bool>(), prop::collection::vec((0..n, 0u8..4), 0..6)),
            1..4,
        ),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(files, pages, out, out_link, allow_svg_scripts, key, extra_content)| Case {
                files,
                pages,
                out,
                out_link,
                allow_svg_scripts,
                key,
                extra_content,
            },
        )
}

const SCRIPT_SVG: &str =
    "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.domain)</script></svg>";
const CLEAN_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0h1v1z\"/></svg>";
const BMW: &[u8] = b"BMW service log: the car is fine, the brakes are new\n";

/// Regular files under `dir` with their bytes; links and special files are listed apart,
/// never opened.
fn regular_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// How a page writes a reference to `name`.
fn reference(name: &str, style: u8) -> String {
    let encoded: String = name
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '\t' => "%09".to_string(),
            '\n' => "%0A".to_string(),
            '#' => "%23".to_string(),
            '%' => "%25".to_string(),
            c => c.to_string(),
        })
        .collect();
    match style {
        0 => format!("![i]({encoded})\n"),
        1 => format!("![i](<{}>)\n", name.replace('\n', " ")),
        2 => format!("<img src=\"{encoded}\">\n"),
        _ => format!("![i](/{encoded})\n"),
    }
}

fn run_case(c: &Case) -> Result<(), TestCaseError> {
    let names = names();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(root.join("content/sub")).unwrap();
    std::fs::create_dir_all(root.join("static")).unwrap();
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    let private = fixture_bytes("hugo/static/img/photo.jpg");
    std::fs::write(outside.join("private.jpg"), &private).unwrap();
    std::fs::write(outside.join("dir/private.jpg"), &private).unwrap();
    std::fs::write(outside.join("page.md"), "![p](../outside/private.jpg)\n").unwrap();
    let png = fixture_bytes("hugo/static/img/diagram.png");
    let other = fixture_bytes("demo/static/images/avatar.png");

    let folder = |sub: bool| {
        if sub {
            root.join("content/sub")
        } else {
            root.join("content")
        }
    };
    for (sub, name, kind) in &c.files {
        let path = folder(*sub).join(&names[*name]);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        match kind {
            Kind::Png => std::fs::write(&path, &png).unwrap(),
            Kind::OtherPng => std::fs::write(&path, &other).unwrap(),
            Kind::Bmw => std::fs::write(&path, BMW).unwrap(),
            Kind::ScriptSvg => std::fs::write(&path, SCRIPT_SVG).unwrap(),
            Kind::CleanSvg => std::fs::write(&path, CLEAN_SVG).unwrap(),
            Kind::LinkOutsideImage => symlink(&outside.join("private.jpg"), &path),
            Kind::LinkOutsideDir => symlink(&outside.join("dir"), &path),
            Kind::LinkInside => symlink(Path::new("../static"), &path),
            Kind::Fifo => {
                let ok = std::process::Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success();
                prop_assert!(ok);
            }
        }
    }
    // A file in static for site-absolute references, and a link from static to the outside.
    std::fs::write(root.join("static/a.png"), &png).unwrap();
    symlink(
        &outside.join("private.jpg"),
        &root.join("static/private.png"),
    );
    for (i, (sub, refs)) in c.pages.iter().enumerate() {
        let mut text = format!("---\ntitle: p{i}\n---\n# Page {i}\r\n\n");
        for (name, style) in refs {
            let name = names[*name].to_string_lossy().into_owned();
            text.push_str(&reference(&name, *style));
        }
        text.push_str("![outside](../../outside/private.jpg)\n![s](/private.png)\n");
        std::fs::write(folder(*sub).join(format!("p{i}.md")), text).unwrap();
    }
    let keys = [
        "{hash:16}/{fileName}.{extName}",
        "{path}/{fileName}.{extName}",
        "{fileName}.{extName}",
    ];
    let content = if c.extra_content {
        "[content, ../outside]"
    } else {
        "[content]"
    };
    std::fs::write(
        root.join("imglift.yaml"),
        format!(
            "public_url: {PUBLIC_URL}\ncontent: {content}\ntarget: {{dir: store}}\nkey: \"{}\"\n{}",
            keys[c.key],
            if c.allow_svg_scripts {
                "allow_svg_scripts: true\n"
            } else {
                ""
            }
        ),
    )
    .unwrap();
    if c.out && c.out_link {
        std::fs::create_dir_all(root.join("build")).unwrap();
        symlink(&outside.join("dir"), &root.join("build/content"));
    }

    let outside_before = regular_files(&outside);
    let is_own = |p: &Path| {
        let rel = p.strip_prefix(&root).unwrap();
        rel.starts_with("store")
            || rel.starts_with("build")
            || rel == Path::new("imglift.lock")
            || rel == Path::new(".imglift-cache")
            || rel.extension().is_some_and(|e| e == "md")
    };
    let site_before: BTreeMap<_, _> = regular_files(&root)
        .into_iter()
        .filter(|(p, _)| !is_own(p))
        .collect();

    let mut args = vec!["sync"];
    if c.out {
        args.extend(["--out", "build"]);
    }
    let run = support::run_imglift(
        &root,
        &args,
        &[
            ("IMGLIFT_ACCESS_KEY_ID", "AKIAHOSTILE0000"),
            ("IMGLIFT_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
        ],
    );
    let dump = run.dump();
    prop_assert!(
        matches!(run.code, Some(0..=3)),
        "exit {:?}\n{dump}",
        run.code
    );
    prop_assert!(!run.stderr.contains("panicked"), "{dump}");
    // A content folder outside the root is refused before anything is done; every other
    // config here is valid, so the run does its work.
    prop_assert_eq!(run.code == Some(2), c.extra_content, "{}", dump);
    for secret in [SECRET, TOKEN, "AKIAHOSTILE0000"] {
        prop_assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{dump}"
        );
    }
    prop_assert_eq!(
        &regular_files(&outside),
        &outside_before,
        "outside changed\n{}",
        dump
    );
    let site_after: BTreeMap<_, _> = regular_files(&root)
        .into_iter()
        .filter(|(p, _)| !is_own(p))
        .collect();
    prop_assert_eq!(
        site_after.keys().collect::<BTreeSet<_>>(),
        site_before.keys().collect::<BTreeSet<_>>(),
        "files appeared or vanished\n{}",
        dump
    );
    prop_assert!(site_after == site_before, "a non-page file changed\n{dump}");
    let mut allowed = vec![png.clone(), other.clone(), CLEAN_SVG.as_bytes().to_vec()];
    if c.allow_svg_scripts {
        allowed.push(SCRIPT_SVG.as_bytes().to_vec());
    }
    for (path, bytes) in regular_files(&root.join("store")) {
        prop_assert!(
            allowed.contains(&bytes),
            "{} holds bytes that are not an image from inside the root\n{dump}",
            path.display()
        );
    }
    if c.out {
        // The out tree only mirrors the content folders, and never the outside image.
        for (path, bytes) in regular_files(&root.join("build")) {
            prop_assert!(bytes != private, "{} is the outside image", path.display());
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn hostile_trees_keep_the_promises(c in case()) {
        run_case(&c)?;
    }
}
