//! What is shipped: the release binary, and each web file raw, gzipped and brotli-compressed.

use anyhow::{Context, Result};
use std::path::Path;

pub struct Sizes {
    pub binary_mib: f64,
    pub files: Vec<(String, usize, usize, usize)>,
}

pub fn sizes(root: &Path) -> Result<Sizes> {
    use std::io::Write;
    let binary = std::fs::metadata(root.join("target/release/provisio"))?.len() as f64;
    let mut files = Vec::new();
    let dist = root.join("web/dist");
    let mut names: Vec<_> = std::fs::read_dir(&dist)
        .with_context(|| format!("{} (trunk build --release)", dist.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            [".html", ".js", ".css", ".wasm"]
                .iter()
                .any(|s| n.ends_with(s))
        })
        .collect();
    names.sort();
    for name in names {
        let bytes = std::fs::read(dist.join(&name))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        let gzip = gz.finish()?.len();
        let mut br = Vec::new();
        brotli::BrotliCompress(
            &mut bytes.as_slice(),
            &mut br,
            &brotli::enc::BrotliEncoderParams {
                quality: 11,
                ..Default::default()
            },
        )?;
        files.push((name, bytes.len(), gzip, br.len()));
    }
    Ok(Sizes {
        binary_mib: binary / 1024.0 / 1024.0,
        files,
    })
}
