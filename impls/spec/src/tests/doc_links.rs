//! Every public spec function carries its spec link pinned at v1.1.10 (conventions: link the spec at
//! a pinned version and check it in CI).
use std::path::Path;

const PINNED: &str = "https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#";

fn visit(dir: &Path, out: &mut Vec<String>, checked: &mut usize) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().unwrap() != "tests" {
                visit(&path, out, checked);
            }
            continue;
        }
        // uint64.rs is Python's integer semantics, not a spec section.
        if path.extension().is_none_or(|e| e != "rs") || path.file_name().unwrap() == "uint64.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with("pub fn ") {
                continue;
            }
            *checked += 1;
            let doc: Vec<&str> = lines[..i].iter().rev().take_while(|l| l.starts_with("///")).copied().collect();
            if !doc.iter().any(|l| l.contains(PINNED)) {
                out.push(format!("{}:{}: {line}", path.display(), i + 1));
            }
        }
    }
}

#[test]
fn every_public_spec_function_links_its_pinned_section() {
    let (mut missing, mut checked) = (Vec::new(), 0);
    visit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut missing, &mut checked);
    assert!(checked > 80, "only {checked} public functions found: the scan is broken");
    assert!(missing.is_empty(), "public functions without a v1.1.10 spec link:\n{}", missing.join("\n"));
}
