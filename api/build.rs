//! The SPA is embedded from web/dist; rebuild when Trunk writes a new bundle.
//!
//! Text-like assets (the wasm, JS, CSS, HTML, SVG) are also compressed here, once per bundle, with
//! brotli (quality 11) and gzip (level 9). `spa.rs` serves those bytes to clients that accept them,
//! so requests cost no compression work and get a far smaller answer than on-the-fly compression.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Extensions worth compressing; images and fonts are compressed already.
const COMPRESSIBLE: &[&str] = &[
    "wasm", "js", "mjs", "css", "html", "svg", "json", "map", "txt",
];

fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let dist = manifest_dir.join("../web/dist");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let variants_dir = out_dir.join("precompressed");
    let _ = std::fs::remove_dir_all(&variants_dir);
    std::fs::create_dir_all(&variants_dir).unwrap();

    let mut files = Vec::new();
    collect(&dist, "", &mut files);
    files.sort();

    let mut table = String::from("&[\n");
    for (index, (name, path)) in files.iter().enumerate() {
        let extension = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if !COMPRESSIBLE.contains(&extension) {
            continue;
        }
        let data = std::fs::read(path).unwrap();
        let br = keep_if_smaller(&data, brotli(&data));
        let gz = keep_if_smaller(&data, gzip(&data));
        if br.is_none() && gz.is_none() {
            continue;
        }
        let variant = |suffix: &str, bytes: Option<Vec<u8>>| match bytes {
            Some(bytes) => {
                let file = variants_dir.join(format!("{index}.{suffix}"));
                std::fs::write(&file, bytes).unwrap();
                format!("Some(include_bytes!({:?}))", file.to_str().unwrap())
            }
            None => "None".to_string(),
        };
        let (br, gz) = (variant("br", br), variant("gz", gz));
        writeln!(
            table,
            "    Precompressed {{ path: {name:?}, len: {}, hash: {:#x}, br: {br}, gzip: {gz} }},",
            data.len(),
            fnv1a(&data),
        )
        .unwrap();
    }
    table.push(']');
    std::fs::write(out_dir.join("precompressed.rs"), table).unwrap();
}

/// Files under `dir` as (path relative to web/dist with `/` separators, full path).
fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return; // No bundle built: the table stays empty (rust-embed allows a missing folder too).
    };
    for entry in entries.flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        if path.is_dir() {
            collect(&path, &format!("{name}/"), files);
        } else {
            files.push((name, path));
        }
    }
}

/// A variant is only worth serving when it saves at least 5 %.
fn keep_if_smaller(original: &[u8], compressed: Vec<u8>) -> Option<Vec<u8>> {
    (compressed.len() * 100 < original.len() * 95).then_some(compressed)
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// FNV-1a 64; `spa.rs` computes the same to tell that a variant belongs to the file it serves.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
