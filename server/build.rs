//! Embeds the participant page, built from `web/` into `web/dist` (committed; CI rebuilds it
//! from its sources and fails if it differs), so the server binary carries it.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = vec![];
    collect(&dist, &dist, &mut files);
    files.sort();
    if !files.iter().any(|(name, _)| name == "index.html") {
        return Err("web/dist/index.html is missing: build the page with \
                    `npm ci --prefix web && npm run --prefix web build`"
            .into());
    }
    let mut out = String::from("&[\n");
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )?;
    }
    out.push_str("]\n");
    let target = PathBuf::from(std::env::var("OUT_DIR")?).join("page_files.rs");
    std::fs::write(target, out)?;
    Ok(())
}

/// Every file under `dir`, named by its path from `root` with `/` between parts.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((name, path));
        }
    }
}
