//! "An image by its bytes", as a browser would decide it: a known signature is not enough (a log
//! that starts with `BMW…` has the BMP one), the header must parse far enough to give dimensions
//! that make sense. The dimensions come from the `imagesize` crate; the weak signatures (BMP,
//! ICO, GIF, TIFF, PNG) get a structural check of their own on top. Also here: whether an SVG can
//! run script on the origin that serves it.

/// The largest width or height accepted: every format we publish stays below it, and text read
/// as a header gives far larger numbers.
const MAX_SIDE: u64 = 65_535;

/// The content type of `bytes` if they are a raster image with a header that parses to sane
/// dimensions (SVG is recognised by the caller).
pub fn raster_type(bytes: &[u8]) -> Option<&'static str> {
    use imagesize::{Compression, ImageType};
    let kind = imagesize::image_type(bytes).ok()?;
    let mime = match kind {
        ImageType::Png => "image/png",
        ImageType::Jpeg => "image/jpeg",
        ImageType::Gif => "image/gif",
        ImageType::Webp => "image/webp",
        ImageType::Bmp => "image/bmp",
        ImageType::Ico => "image/vnd.microsoft.icon",
        ImageType::Tiff => "image/tiff",
        ImageType::Heif(Compression::Av1) => "image/avif",
        ImageType::Heif(Compression::Hevc) => "image/heif",
        _ => return None,
    };
    let structure_ok = match kind {
        ImageType::Bmp => return bmp_ok(bytes).then_some(mime),
        ImageType::Png => bytes.get(12..16) == Some(b"IHDR"),
        ImageType::Gif => gif_ok(bytes),
        ImageType::Ico => ico_ok(bytes),
        ImageType::Tiff => tiff_ok(bytes),
        ImageType::Webp => matches!(bytes.get(12..16), Some(b"VP8 " | b"VP8L" | b"VP8X")),
        _ => true,
    };
    let size = imagesize::blob_size(bytes).ok()?;
    let sane = |side: usize| (1..=MAX_SIDE).contains(&(side as u64));
    (structure_ok && sane(size.width) && sane(size.height)).then_some(mime)
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// BMP: a known info-header size, one plane, a real bit depth, and sane dimensions (the height
/// is signed: negative for top-down images).
fn bmp_ok(b: &[u8]) -> bool {
    let Some(header) = u32_le(b, 14) else {
        return false;
    };
    let depths = [1, 2, 4, 8, 16, 24, 32];
    let (width, height, planes, depth) = match header {
        12 => (
            u16_le(b, 18).map(i64::from),
            u16_le(b, 20).map(i64::from),
            u16_le(b, 22),
            u16_le(b, 24),
        ),
        40 | 52 | 56 | 64 | 108 | 124 => (
            u32_le(b, 18).map(|w| i64::from(w as i32)),
            u32_le(b, 22).map(|h| i64::from(h as i32)),
            u16_le(b, 26),
            u16_le(b, 28),
        ),
        _ => return false,
    };
    let (Some(w), Some(h), Some(planes), Some(depth)) = (width, height, planes, depth) else {
        return false;
    };
    (1..=MAX_SIDE as i64).contains(&w)
        && (1..=MAX_SIDE as i64).contains(&h.abs())
        && planes == 1
        && depths.contains(&depth)
}

/// GIF: after the screen descriptor and its colour table comes a block (extension, image or
/// trailer).
fn gif_ok(b: &[u8]) -> bool {
    let Some(&packed) = b.get(10) else {
        return false;
    };
    let table = if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    };
    matches!(b.get(13 + table), Some(0x21 | 0x2c | 0x3b))
}

/// ICO: reserved zero, type 1, at least one entry, each entry's data inside the file.
fn ico_ok(b: &[u8]) -> bool {
    let (Some(0), Some(1), Some(count)) = (u16_le(b, 0), u16_le(b, 2), u16_le(b, 4)) else {
        return false;
    };
    let count = usize::from(count);
    let table_end = 6 + 16 * count;
    count > 0
        && b.len() >= table_end
        && (0..count).all(|i| {
            let e = 6 + 16 * i;
            let (Some(size), Some(offset)) = (u32_le(b, e + 8), u32_le(b, e + 12)) else {
                return false;
            };
            b[e + 3] == 0
                && size > 0
                && offset as usize >= table_end
                && (offset as u64 + size as u64) <= b.len() as u64
        })
}

/// TIFF: the first directory inside the file, with at least one entry.
fn tiff_ok(b: &[u8]) -> bool {
    let little = b.starts_with(b"II");
    let read32 = |at: usize| -> Option<u32> {
        let raw: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        })
    };
    let read16 = |at: usize| -> Option<u16> {
        let raw: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(raw)
        } else {
            u16::from_be_bytes(raw)
        })
    };
    let Some(ifd) = read32(4) else { return false };
    ifd >= 8 && read16(ifd as usize).is_some_and(|n| n > 0 && n < 4096)
}

/// What in an SVG could run script where it is served (`<script>`, an `on…=` event handler, a
/// `javascript:` URL, `<foreignObject>`), or `None`. Character references and case are undone
/// first, so `JaVa&#x53;cript:` is found too.
pub fn svg_script(text: &str) -> Option<&'static str> {
    let lower = decode_references(text).to_lowercase();
    if lower.contains("<script") || lower.contains(":script") {
        return Some("a <script> element");
    }
    if lower.contains("<foreignobject") || lower.contains(":foreignobject") {
        return Some("a <foreignObject> element (HTML inside the image)");
    }
    let squeezed: String = lower
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    if squeezed.contains("javascript:") || squeezed.contains("vbscript:") {
        return Some("a javascript: URL");
    }
    if has_event_handler(&lower) {
        return Some("an on… event handler attribute");
    }
    None
}

/// An attribute `on<letters>=` preceded by whitespace, `/` or a quote (inside a tag).
fn has_event_handler(lower: &str) -> bool {
    let b = lower.as_bytes();
    let mut from = 0;
    while let Some(at) = lower[from..].find("on").map(|i| from + i) {
        from = at + 2;
        let before = if at == 0 { b' ' } else { b[at - 1] };
        if !(before.is_ascii_whitespace() || matches!(before, b'/' | b'"' | b'\'')) {
            continue;
        }
        let mut i = at + 2;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i == at + 2 {
            continue;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) == Some(&b'=') {
            return true;
        }
    }
    false
}

/// `&#NN;`, `&#xNN;` (the `;` optional, as HTML allows) and a few named references decoded.
fn decode_references(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let named = [
            ("&colon;", ':'),
            ("&tab;", '\t'),
            ("&newline;", '\n'),
            ("&lt;", '<'),
        ];
        // Compared as bytes: `rest[..n]` could end inside a character (`AT&amp;T’s`).
        if let Some((name, c)) = named.iter().find(|(n, _)| {
            rest.as_bytes()
                .get(..n.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(n.as_bytes()))
        }) {
            out.push(*c);
            rest = &rest[name.len()..];
            continue;
        }
        let (digits, radix) = match rest.get(..3) {
            Some(p) if p.eq_ignore_ascii_case("&#x") => (&rest[3..], 16),
            _ if rest.starts_with("&#") => (&rest[2..], 10),
            _ => {
                out.push('&');
                rest = &rest[1..];
                continue;
            }
        };
        let len = digits
            .find(|c: char| !c.is_digit(radix))
            .unwrap_or(digits.len());
        let decoded = u32::from_str_radix(&digits[..len], radix)
            .ok()
            .and_then(char::from_u32);
        match decoded {
            Some(c) if len > 0 => {
                out.push(c);
                let skip = rest.len() - digits.len() + len;
                rest = &rest[skip..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn text_behind_an_image_signature_is_not_an_image() {
        let mut long = Vec::new();
        for head in [
            &b"BMW service log: 2024-01-01 oil change, brakes checked\n"[..],
            b"II*\0 looks like TIFF but is a note about nothing in particular\n",
            b"\0\0\x01\0 an ICO signature followed by plain words and more words\n",
            b"GIF89a is the name of my band, we play on Fridays\n",
            b"\xff\xd8\xff then text that is not a JPEG at all, no markers here\n",
            b"\x89PNG\r\n\x1a\n and then a letter, not a chunk\n",
            b"RIFF\x20\0\0\0WEBPnot really a webp file at all\n",
        ] {
            long.clear();
            long.extend_from_slice(head);
            long.extend(std::iter::repeat_n(b'x', 300));
            assert_eq!(
                raster_type(head),
                None,
                "{:?}",
                String::from_utf8_lossy(head)
            );
            assert_eq!(
                raster_type(&long),
                None,
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn real_images_pass() {
        for (rel, mime) in [
            ("hugo/static/img/diagram.png", "image/png"),
            ("hugo/static/img/photo.jpg", "image/jpeg"),
            ("hugo/static/img/a.gif", "image/gif"),
            ("hugo/static/img/a.webp", "image/webp"),
        ] {
            assert_eq!(raster_type(&fixture(rel)), Some(mime), "{rel}");
        }
        // A 2×2 24-bit BMP, top-down (negative height).
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&(54u32 + 16).to_le_bytes());
        bmp.extend_from_slice(&[0, 0, 0, 0]);
        bmp.extend_from_slice(&54u32.to_le_bytes());
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.extend_from_slice(&2i32.to_le_bytes());
        bmp.extend_from_slice(&(-2i32).to_le_bytes());
        bmp.extend_from_slice(&1u16.to_le_bytes());
        bmp.extend_from_slice(&24u16.to_le_bytes());
        bmp.extend_from_slice(&[0; 24]);
        bmp.extend_from_slice(&[0; 16]);
        assert_eq!(raster_type(&bmp), Some("image/bmp"));
    }

    #[test]
    fn scripts_in_svg_are_found_in_any_spelling() {
        for svg in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><SCRIPT >alert(1)</SCRIPT></svg>",
            "<svg xmlns:s=\"http://www.w3.org/2000/svg\"><s:script>x</s:script></svg>",
            "<svg onload=\"alert(1)\"/>",
            "<svg><rect\nONCLICK = 'x'/></svg>",
            "<svg><a href=\"javascript:alert(1)\"><text>x</text></a></svg>",
            "<svg><a xlink:href=\"JaVa&#x53;cript&colon;alert(1)\"/></svg>",
            "<svg><a href=\"java\tscript:x\"/></svg>",
            "<svg><a href=\"&#106;avascript:x\"/></svg>",
            "<svg><foreignObject><iframe/></foreignObject></svg>",
        ] {
            assert!(svg_script(svg).is_some(), "{svg}");
        }
        for svg in [
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0\"/></svg>",
            "<svg><text>Javascript is a language; one click</text></svg>",
            "<svg><g id=\"ontology\" data-x=\"on\"/><desc>script kiddies</desc></svg>",
            "<svg><a href=\"https://example.com/on=1\"/></svg>",
        ] {
            assert_eq!(svg_script(svg), None, "{svg}");
        }
    }

    /// A BMP with the given info-header size, dimensions, planes and bit depth.
    fn bmp(header: u32, width: i32, height: i32, planes: u16, depth: u16) -> Vec<u8> {
        let mut b = b"BM".to_vec();
        b.extend_from_slice(&(14 + header + 16).to_le_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&(14 + header).to_le_bytes());
        b.extend_from_slice(&header.to_le_bytes());
        if header == 12 {
            b.extend_from_slice(&(width as u16).to_le_bytes());
            b.extend_from_slice(&(height as u16).to_le_bytes());
        } else {
            b.extend_from_slice(&width.to_le_bytes());
            b.extend_from_slice(&height.to_le_bytes());
        }
        b.extend_from_slice(&planes.to_le_bytes());
        b.extend_from_slice(&depth.to_le_bytes());
        b.resize(14 + header as usize + 16, 0);
        b
    }

    #[test]
    fn bmp_headers_of_each_kind_and_each_broken_field() {
        for (header, w, h, planes, depth) in [
            (12, 3, 2, 1, 24),
            (40, 65_535, 1, 1, 1),
            (124, 1, -65_535, 1, 32),
        ] {
            let b = bmp(header, w, h, planes, depth);
            assert_eq!(raster_type(&b), Some("image/bmp"), "{header} {w}×{h}");
        }
        for (header, w, h, planes, depth) in [
            (41, 2, 2, 1, 24),
            (40, 0, 2, 1, 24),
            (40, 65_536, 2, 1, 24),
            (40, -2, 2, 1, 24),
            (40, 2, 0, 1, 24),
            (40, 2, -65_536, 1, 24),
            (40, 2, 2, 2, 24),
            (40, 2, 2, 1, 3),
            (12, 0, 2, 1, 24),
        ] {
            let b = bmp(header, w, h, planes, depth);
            assert_eq!(raster_type(&b), None, "{header} {w}×{h} {planes} {depth}");
        }
        // The header ends before its fields.
        assert_eq!(raster_type(&bmp(40, 2, 2, 1, 24)[..27]), None);
    }

    /// An icon with one 1×1 entry whose data (`size` bytes, `data` of them present) is at
    /// `offset`; `reserved` is the entry's reserved byte.
    fn ico(reserved: u8, size: u32, offset: u32, data: usize) -> Vec<u8> {
        let mut b = vec![0, 0, 1, 0, 1, 0, 1, 1, 0, reserved, 1, 0, 32, 0];
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        b.resize(b.len() + data, 0);
        b
    }

    #[test]
    fn icons_need_their_entries_data_inside_the_file() {
        let icon = "image/vnd.microsoft.icon";
        assert_eq!(raster_type(&ico(0, 4, 22, 4)), Some(icon));
        assert_eq!(raster_type(&ico(0, 4, 23, 5)), Some(icon));
        // Reserved byte set, no data, data before the end of the table, data past the end.
        assert_eq!(raster_type(&ico(1, 4, 22, 4)), None);
        assert_eq!(raster_type(&ico(0, 0, 22, 4)), None);
        assert_eq!(raster_type(&ico(0, 4, 21, 4)), None);
        assert_eq!(raster_type(&ico(0, 5, 22, 4)), None);
        // Two entries announced, one present.
        let mut two = ico(0, 4, 38, 4);
        two[4] = 2;
        assert_eq!(raster_type(&two), None);
        // Each entry of a two-entry icon is checked at its own place.
        let mut pair = ico(0, 4, 38, 0);
        pair[4] = 2;
        pair.extend_from_slice(&[1, 1, 0, 0, 1, 0, 32, 0, 4, 0, 0, 0, 42, 0, 0, 0]);
        pair.resize(46, 0);
        assert_eq!(raster_type(&pair), Some(icon));
        pair[22 + 12] = 43;
        assert_eq!(raster_type(&pair), None);
        let mut none = ico(0, 4, 22, 4);
        none[4] = 0;
        assert_eq!(raster_type(&none), None);
    }

    /// A TIFF, little- or big-endian, whose first directory at `ifd` has `count` entries (the
    /// first two give 3×2).
    fn tiff(little: bool, ifd: u32, count: u16) -> Vec<u8> {
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let u32b = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut b = if little {
            b"II".to_vec()
        } else {
            b"MM".to_vec()
        };
        b.extend_from_slice(&u16b(42));
        b.extend_from_slice(&u32b(ifd));
        b.resize(ifd as usize, 0);
        b.extend_from_slice(&u16b(count));
        for (tag, value) in [(0x100, 3), (0x101, 2)] {
            b.extend_from_slice(&u16b(tag));
            b.extend_from_slice(&u16b(3));
            b.extend_from_slice(&u32b(1));
            b.extend_from_slice(&u16b(value));
            b.extend_from_slice(&[0, 0]);
        }
        b.extend_from_slice(&[0; 4]);
        b
    }

    #[test]
    fn tiff_in_either_byte_order_with_its_first_directory_inside_the_file() {
        for little in [true, false] {
            assert_eq!(raster_type(&tiff(little, 8, 2)), Some("image/tiff"));
            assert_eq!(raster_type(&tiff(little, 16, 4095)), Some("image/tiff"));
            assert_eq!(raster_type(&tiff(little, 8, 4096)), None);
            let mut cut = tiff(little, 8, 2);
            cut.truncate(9);
            assert_eq!(raster_type(&cut), None);
        }
    }

    /// A GIF with the given packed byte, its colour table, then `block`.
    fn gif(packed: u8, block: u8) -> Vec<u8> {
        let mut b = b"GIF89a\x02\x00\x02\x00".to_vec();
        b.extend_from_slice(&[packed, 0, 0]);
        if packed & 0x80 != 0 {
            b.resize(b.len() + (3 << ((packed & 7) + 1)), 0);
        }
        b.extend_from_slice(&[block, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn gif_block_follows_the_colour_table_of_any_size() {
        for packed in [0x00, 0x07, 0x80, 0x81, 0xF7] {
            for block in [0x21, 0x2c, 0x3b] {
                assert_eq!(
                    raster_type(&gif(packed, block)),
                    Some("image/gif"),
                    "{packed:x}"
                );
            }
            assert_eq!(raster_type(&gif(packed, b'x')), None, "{packed:x}");
        }
        // A colour table announced and missing.
        let mut cut = gif(0x87, 0x2c);
        cut.truncate(20);
        assert_eq!(raster_type(&cut), None);
    }

    /// A PNG signature and IHDR of the given dimensions.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn png_dimensions_must_be_sane() {
        assert_eq!(raster_type(&png(65_535, 1)), Some("image/png"));
        assert_eq!(raster_type(&png(1, 65_535)), Some("image/png"));
        for (w, h) in [(0, 1), (1, 0), (65_536, 1), (1, 65_536)] {
            assert_eq!(raster_type(&png(w, h)), None, "{w}×{h}");
        }
        // Sane numbers where the dimensions would be, but the first chunk is not the header.
        let mut other = png(2, 2);
        other[12..16].copy_from_slice(b"tEXt");
        assert_eq!(raster_type(&other), None);
    }

    /// An ISO-BMFF image with brand `brand` and an `ispe` of 4×3.
    fn heif(brand: &[u8; 4]) -> Vec<u8> {
        let boxed = |tag: &[u8], body: &[u8]| {
            let mut b = ((8 + body.len()) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(tag);
            b.extend_from_slice(body);
            b
        };
        let ispe = boxed(b"ispe", &[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3]);
        let iprp = boxed(b"iprp", &boxed(b"ipco", &ispe));
        let meta = boxed(b"meta", &[&[0, 0, 0, 0][..], &iprp].concat());
        let ftyp = boxed(b"ftyp", &[&brand[..], b"\0\0\0\0mif1"].concat());
        [ftyp, meta].concat()
    }

    #[test]
    fn avif_and_heic_by_their_brand() {
        assert_eq!(raster_type(&heif(b"avif")), Some("image/avif"));
        assert_eq!(raster_type(&heif(b"heic")), Some("image/heif"));
        assert_eq!(raster_type(&heif(b"jpeg")), None);
    }

    #[test]
    fn references_are_decoded_before_looking_for_script() {
        for svg in [
            "<svg>&lt;script>x</svg>",
            "<svg>&LT;foreignObject></svg>",
            "<svg><a href=\"java&Tab;script:x\"/></svg>",
            "<svg><a href=\"java&NewLine;script:x\"/></svg>",
            "<svg><a href=\"&#X6A;avascript:x\"/></svg>",
            "<svg><a href=\"&#x6a&#x61vascript:x\"/></svg>",
            "<svg><a href=\"&#106&#97vascript:x\"/></svg>",
            "<svg><a href=\"vbscript:x\"/></svg>",
            "<svg><x:foreignObject/></svg>",
            "<svg/onload=x>",
            "<svg 'onclick='x'>",
            "onload=x",
        ] {
            assert!(svg_script(svg).is_some(), "{svg}");
        }
        for svg in [
            "<svg><text>&#;script &#x; &#xZZ; &#99999999999; &amp;lt;script&gt;</text></svg>",
            "<svg><text>a&b &</text></svg>",
            "<svg><text>AT&amp;T’s logo, R&amp;D’s café</text></svg>",
            "<svg><text>sonar on = off, xon=1, on</text></svg>",
            "<svg><g data-on=\"1\" on-x=\"y\"/></svg>",
        ] {
            assert_eq!(svg_script(svg), None, "{svg}");
        }
    }

    // mut3: the last sniff.rs mutants.
    #[test]
    fn an_event_handler_name_at_the_very_end_is_not_a_handler() {
        for text in ["<svg onload", "<svg onload ", "<svg on", "<svg onclick\t"] {
            assert!(!has_event_handler(text), "{text:?}");
        }
        assert!(has_event_handler("<svg onload ="));
        assert!(has_event_handler("<svg/onload=x"));
    }

    #[test]
    fn an_ampersand_without_hash_is_text() {
        assert_eq!(decode_references("&"), "&");
        assert_eq!(decode_references("&12;x"), "&12;x");
        assert_eq!(decode_references("&#12;x"), "\u{c}x");
        assert_eq!(decode_references("&#x3a;"), ":");
        assert_eq!(decode_references("a&colon;b&#;"), "a:b&#;");
    }
}
