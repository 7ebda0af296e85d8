//! LOLWUT [VERSION v] [args]: Redis 7.0's computer art. VERSION 5 draws Georg Nees's
//! "Schotter" in Braille characters, VERSION 6 a skyline in terminal grays, any other
//! version (the default, 7) only the version line. The drawing follows Redis's
//! `lolwut5.c` / `lolwut6.c` step by step (same float and double arithmetic, same
//! Bresenham lines), so where Redis uses no randomness (Schotter's first two rows, that is
//! any picture with at most two rows of squares) the output is byte-identical; the rest
//! uses random numbers, as Redis's does (seeded per process there too).

use crate::dispatch::gate::reply;
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::{CmdError, CmdResult};

const RAND_MAX: i32 = i32::MAX;

/// A small PRNG standing in for libc's `rand()` (Redis seeds that with time and pid).
struct Rand(u64);

impl Rand {
    fn new() -> Rand {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rand((t ^ u64::from(std::process::id())) | 1)
    }

    /// 0..=RAND_MAX
    fn next(&mut self) -> i32 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as i32 & RAND_MAX
    }
}

struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i32, height: i32, bg: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![bg; (width.max(0) as usize) * (height.max(0) as usize)],
        }
    }

    fn draw(&mut self, x: i32, y: i32, color: u8) {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return;
        }
        self.pixels[(x + y * self.width) as usize] = color;
    }

    fn get(&self, x: i32, y: i32) -> u8 {
        if x < 0 || x >= self.width || y < 0 || y >= self.height {
            return 0;
        }
        self.pixels[(x + y * self.width) as usize]
    }

    /// Bresenham, as `lwDrawLine`.
    fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let dx = (x2 - x1).abs();
        let dy = (y2 - y1).abs();
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.draw(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// `lwDrawSquare`: C's float `size`/`k` and double `sin`/`cos`/`round`.
    #[allow(
        clippy::approx_constant,
        reason = "Redis divides by this truncated sqrt(2); the pixels depend on it"
    )]
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        let mut size = (f64::from(size) / 1.4142135623) as f32;
        size = f64::from(size).round() as f32;
        let mut k = (std::f64::consts::PI / 4.0 + f64::from(angle)) as f32;
        let mut px = [0i32; 4];
        let mut py = [0i32; 4];
        for j in 0..4 {
            px[j] = (f64::from(k).sin() * f64::from(size) + f64::from(x)).round() as i32;
            py[j] = (f64::from(k).cos() * f64::from(size) + f64::from(y)).round() as i32;
            k = (f64::from(k) + std::f64::consts::PI / 2.0) as f32;
        }
        for j in 0..4 {
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
        }
    }
}

/// `getLongFromObjectOrReply` for the optional numeric arguments.
fn long_arg(args: &[&[u8]], i: usize, default: i64) -> Result<i64, CmdError> {
    match args.get(i) {
        Some(a) => resp::num::parse_i64(a).ok_or(CmdError::NotInteger),
        None => Ok(default),
    }
}

/// LOLWUT VERSION 5 [cols] [squares-per-row] [squares-per-col]: `args[0]` is the version.
fn schotter(args: &[&[u8]]) -> Result<Vec<u8>, CmdError> {
    let cols = long_arg(args, 1, 66)?.clamp(1, 1000) as i32;
    let per_row = long_arg(args, 2, 8)?.clamp(1, 200) as i32;
    let per_col = long_arg(args, 3, 12)?.clamp(1, 200) as i32;
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut c = Canvas::new(width, height, 0);
    let mut rng = Rand::new();
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0f32;
            if y > 1 {
                let mut r = [0f32; 3];
                for v in &mut r {
                    *v = rng.next() as f32 / RAND_MAX as f32 / per_col as f32 * y as f32;
                }
                for v in &mut r {
                    if rng.next() % 2 != 0 {
                        *v = -*v;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i32;
                sy = (sy as f32 + r[2] * side / 3.0) as i32;
            }
            c.square(sx, sy, side, angle, 1);
        }
    }
    let mut out = Vec::new();
    let mut y = 0;
    while y < c.height {
        let mut x = 0;
        while x < c.width {
            let bits = [
                (0, 0, 0),
                (0, 1, 1),
                (0, 2, 2),
                (1, 0, 3),
                (1, 1, 4),
                (1, 2, 5),
                (0, 3, 6),
                (1, 3, 7),
            ];
            let mut byte = 0u32;
            for (dx, dy, bit) in bits {
                if c.get(x + dx, y + dy) != 0 {
                    byte |= 1 << bit;
                }
            }
            let ch = char::from_u32(0x2800 + byte).unwrap_or(' ');
            let mut b = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
            x += 2;
        }
        if y != c.height - 1 {
            out.push(b'\n');
        }
        y += 4;
    }
    out.extend_from_slice(b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n");
    Ok(out)
}

struct Skyscraper {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

fn skyscraper(c: &mut Canvas, s: &Skyscraper, rng: &mut Rand) {
    let starty = c.height - 1;
    let endy = starty - s.height + 1;
    let mut y = starty;
    while y >= endy {
        for x in s.xoff..s.xoff + s.width {
            if y == endy && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            if s.windows
                && x > s.xoff + 1
                && x < s.xoff + s.width - 2
                && y > endy + 1
                && y < starty - 1
            {
                let relx = x - (s.xoff + 1);
                let rely = y - (endy + 1);
                // C's `/` and `%` truncate toward zero, as Rust's.
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    loop {
                        color = (1 + rng.next() % 2) as u8;
                        if color != s.color {
                            break;
                        }
                    }
                    if relx % 2 != 0 {
                        color = c.get(x - 1, y);
                    }
                }
            }
            c.draw(x, y, color);
        }
        y -= 1;
    }
}

/// LOLWUT VERSION 6 [cols] [rows]
fn skyline(args: &[&[u8]]) -> Result<Vec<u8>, CmdError> {
    let cols = long_arg(args, 1, 80)?.clamp(1, 1000) as i32;
    let rows = long_arg(args, 2, 20)?.clamp(1, 1000) as i32;
    let mut c = Canvas::new(cols, rows, 3);
    let mut rng = Rand::new();
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < c.width {
            offset += rng.next() % 8;
            let width = 10 + rng.next() % 9;
            let height = if color == 2 {
                c.height / 2 + (rng.next() % c.height) / 2
            } else {
                c.height / 2 + (rng.next() % c.height) / 3
            };
            let s = Skyscraper {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            skyscraper(&mut c, &s, &mut rng);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < c.width {
        offset += rng.next() % 8;
        let mut width = 5 + rng.next() % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = c.height / 3 + (rng.next() % c.height) / 2;
        let s = Skyscraper {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        };
        skyscraper(&mut c, &s, &mut rng);
        offset += width + 5;
    }
    let mut out = Vec::new();
    for y in 0..c.height {
        for x in 0..c.width {
            let ce: &[u8] = match c.get(x, y) {
                1 => b"0;90;100m",
                2 => b"0;37;47m",
                3 => b"0;97;107m",
                _ => b"0;30;40m",
            };
            out.extend_from_slice(b"\x1b[");
            out.extend_from_slice(ce);
            out.extend_from_slice(b" \x1b[0m");
        }
        if y != c.height - 1 {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n");
    Ok(out)
}

/// LOLWUT [VERSION v] [...]: Redis picks the drawing by the version's first characters
/// (`%u.0.0`), so only 5 and 6 draw.
pub fn lolwut(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut rest = args;
    let mut version = 7u32;
    if args.len() >= 3 && is_kw(args[1], "version") {
        let v = resp::num::parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
        version = v as u32;
        rest = &args[2..];
    }
    let text = match version {
        5 => schotter(rest)?,
        6 => skyline(rest)?,
        _ => b"Redis ver. 7.0.15\n".to_vec(),
    };
    reply(server, key).verbatim(b"txt", &text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis 7.0.15's `LOLWUT VERSION 5 5 2 2` (no randomness in two rows of squares).
    #[test]
    fn schotter_without_random_rows_matches_redis() {
        let got = schotter(&[b"5", b"5", b"2", b"2"]).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "⠀⡤⣤⢤⠀\n⠀⣟⣿⣻⠀\n⠀⠀⠀⠀⠀\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
        );
    }
}
