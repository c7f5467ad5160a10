#!/usr/bin/env python3
"""Generate a Hugo-like site for benchmarks: PAGES pages referencing IMAGES distinct real PNGs.

Usage: gen_site.py DIR [PAGES] [IMAGES] [IMAGE_BYTES]

IMAGE_BYTES pads each PNG with a private ancillary chunk of random bytes (default: no padding,
about 130 bytes an image).

Half of the images live in page bundles (referenced relatively), half in static/img (referenced
site-absolutely); references mix inline Markdown, reference-style, raw HTML, figure shortcodes
and a YAML front-matter cover, so the benchmark exercises every extractor.
"""
import os
import struct
import sys
import zlib


def png(i: int, pad: int = 0) -> bytes:
    """A real 4x4 PNG whose pixels encode i, so every image has distinct bytes."""
    w = h = 4
    rows = b""
    for y in range(h):
        row = b"\x00"
        for x in range(w):
            v = (i * 16 + y * 4 + x) & 0xFFFFFF
            row += bytes([(v >> 16) & 255, (v >> 8) & 255, v & 255])
        rows += row
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    # A text chunk with the index makes the bytes unique even where pixel values wrap.
    text = chunk(b"tEXt", b"Comment\x00" + str(i).encode())
    extra = chunk(b"raNd", os.urandom(pad)) if pad > 0 else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + text + extra
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PARAGRAPH = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
    "ullamco laboris nisi ut aliquip ex ea commodo consequat. `![not an image](code.png)`\n"
)


def main() -> None:
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    images = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    per_page = max(1, images // pages)
    os.makedirs(os.path.join(out, "static", "img"), exist_ok=True)
    with open(os.path.join(out, "imglift.yaml"), "w") as f:
        f.write(
            "content: [content]\nstatic: [static]\npublic_url: https://img.example.com\n"
            "target:\n  dir: store\nfront_matter: [image]\n"
        )
    n = 0
    for p in range(pages):
        bundle = os.path.join(out, "content", "posts", f"{p // 500:03d}", f"post-{p:05d}")
        os.makedirs(bundle, exist_ok=True)
        refs = []
        for k in range(per_page):
            if n >= images:
                break
            if n % 2 == 0:
                name = f"photo-{n}.png"
                with open(os.path.join(bundle, name), "wb") as f:
                    f.write(png(n, pad))
                dest = name
            else:
                name = f"shot-{n}.png"
                with open(os.path.join(out, "static", "img", name), "wb") as f:
                    f.write(png(n, pad))
                dest = f"/img/{name}"
            refs.append(dest)
            n += 1
        body = ["---", f"title: Post {p}", "date: 2024-01-01", f"image: {refs[0]}" if refs else "", "---", ""]
        for j, dest in enumerate(refs):
            body.append(PARAGRAPH)
            style = (p + j) % 4
            if style == 0:
                body.append(f'![Picture {j}]({dest} "Title {j}")\n')
            elif style == 1:
                body.append(f"![Picture {j}][r{j}]\n\n[r{j}]: {dest}\n")
            elif style == 2:
                body.append(f'<img src="{dest}" alt="Picture {j}" width="600">\n')
            else:
                body.append(f'{{{{< figure src="{dest}" title="Picture {j}" >}}}}\n')
        body.append("```\n![in a code block](nope.png)\n```\n")
        body.append(PARAGRAPH * 3)
        with open(os.path.join(bundle, "index.md"), "w") as f:
            f.write("\n".join(body))
    print(f"{pages} pages, {n} images in {out}")


if __name__ == "__main__":
    main()
