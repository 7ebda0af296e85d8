//! Geo commands on sorted sets, as Redis 7.0.15's geo.c: GEOADD, GEOPOS, GEODIST, GEOHASH,
//! GEORADIUS, GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO, GEOSEARCH and
//! GEOSEARCHSTORE.
//!
//! A position is stored as a member's score: its 52-bit geohash ([`geohash`]). GEOADD is
//! ZADD with computed scores (and is propagated as that ZADD, as Redis rewrites it).
//! Searches scan the score ranges of the nine cells around the centre in Redis's order and
//! filter by the exact shape, so unsorted results come out in Redis's order too.

use super::zset::read_zset;
use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::object::Value;
use crate::object::zset::ZSetValue;
use crate::types::geohash::{self, Search, Shape};
use crate::types::skiplist::ScoreRange;
use crate::util::{eq_ic, lossy_c_str, parse_f64, parse_i64};

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("geoadd", geoadd),
    ("geopos", geopos),
    ("geodist", geodist),
    ("geohash", geohash_cmd),
    ("georadius", |c, a| radius_generic(c, a, 1, RADIUS_COORDS)),
    ("georadius_ro", |c, a| {
        radius_generic(c, a, 1, RADIUS_COORDS | NOSTORE)
    }),
    ("georadiusbymember", |c, a| {
        radius_generic(c, a, 1, RADIUS_MEMBER)
    }),
    ("georadiusbymember_ro", |c, a| {
        radius_generic(c, a, 1, RADIUS_MEMBER | NOSTORE)
    }),
    ("geosearch", |c, a| radius_generic(c, a, 1, SEARCH)),
    ("geosearchstore", |c, a| {
        radius_generic(c, a, 2, SEARCH | SEARCHSTORE)
    }),
];

const RADIUS_COORDS: u8 = 1;
const RADIUS_MEMBER: u8 = 2;
const NOSTORE: u8 = 4;
const SEARCH: u8 = 8;
const SEARCHSTORE: u8 = 16;

/// `extractLongLatOrReply`: Err(None) for an error already expressed as a CmdError,
/// Err(Some(text)) for the raw "invalid longitude,latitude pair" line (Redis writes that one
/// with addReplySds: not counted as an error).
fn long_lat(args: &[&[u8]]) -> Result<(f64, f64), LatLonErr> {
    let lon = parse_f64(args[0]).map_err(LatLonErr::Cmd)?;
    let lat = parse_f64(args[1]).map_err(LatLonErr::Cmd)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(LatLonErr::Range(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

enum LatLonErr {
    Cmd(CmdError),
    Range(String),
}

/// Writes a coordinate error the way Redis does; `Ok` for the uncounted raw one.
fn lat_lon_fail(ctx: &mut Ctx<'_>, e: LatLonErr) -> CmdResult {
    match e {
        LatLonErr::Cmd(e) => Err(e),
        LatLonErr::Range(text) => {
            ctx.out.error(&text);
            Ok(())
        }
    }
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    if eq_ic(arg, "m") {
        Ok(1.0)
    } else if eq_ic(arg, "km") {
        Ok(1000.0)
    } else if eq_ic(arg, "ft") {
        Ok(0.3048)
    } else if eq_ic(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::Static(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

fn float_or(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    parse_f64(arg).map_err(|_| CmdError::Static(msg))
}

/// `extractDistanceOrReply`: (radius in units, meters per unit).
fn radius_arg(args: &[&[u8]]) -> Result<(f64, f64), CmdError> {
    let r = float_or(args[0], "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::Static("ERR radius cannot be negative"));
    }
    Ok((r, unit(args[1])?))
}

/// `extractBoxOrReply`: (width, height, meters per unit).
fn box_arg(args: &[&[u8]]) -> Result<(f64, f64, f64), CmdError> {
    let w = float_or(args[0], "ERR need numeric width")?;
    let h = float_or(args[1], "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::Static("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(args[2])?))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with geohash scores.
fn geoadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut idx = 2;
    let (mut nx, mut xx) = (false, false);
    while idx < args.len() {
        let a = args[idx];
        if eq_ic(a, "nx") {
            nx = true;
        } else if eq_ic(a, "xx") {
            xx = true;
        } else if !eq_ic(a, "ch") {
            break;
        }
        idx += 1;
    }
    if !(args.len() - idx).is_multiple_of(3) || (xx && nx) {
        return Err(CmdError::Syntax);
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(idx + (args.len() - idx) / 3 * 2);
    argv.push(b"zadd".to_vec());
    argv.extend(args[1..idx].iter().map(|a| a.to_vec()));
    for t in args[idx..].chunks_exact(3) {
        let (lon, lat) = match long_lat(t) {
            Ok(p) => p,
            Err(e) => return lat_lon_fail(ctx, e),
        };
        let score = geohash::score_of(lon, lat).unwrap_or(0);
        argv.push(score.to_string().into_bytes());
        argv.push(t[2].to_vec());
    }
    let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    // Redis replaces the command with this ZADD (what runs, what is propagated).
    super::zset::zadd(ctx, &argv)?;
    ctx.engine.propagation.rewrite(&argv);
    Ok(())
}

/// GEOPOS key [member ...] → each member's [longitude, latitude], or null.
fn geopos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let z = read_zset(ctx.engine, ctx.session.db, args[1])?;
    let pos: Vec<Option<(f64, f64)>> = args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)).and_then(geohash::position))
        .collect();
    ctx.out.array(pos.len());
    for p in pos {
        match p {
            None => ctx.out.null_array(),
            Some((lon, lat)) => {
                ctx.out.array(2);
                ctx.out.bulk(geohash::fmt_coord(lon).as_bytes());
                ctx.out.bulk(geohash::fmt_coord(lat).as_bytes());
            }
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI] → the distance, or null.
fn geodist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(args[4])?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let Some(z) = read_zset(ctx.engine, ctx.session.db, args[1])? else {
        ctx.out.null();
        return Ok(());
    };
    let a = z.score(args[2]).and_then(geohash::position);
    let b = z.score(args[3]).and_then(geohash::position);
    match (a, b) {
        (Some((x1, y1)), Some((x2, y2))) => {
            let d = geohash::distance(x1, y1, x2, y2) / to_meter;
            ctx.out.bulk(geohash::fmt_distance(d).as_bytes());
        }
        _ => ctx.out.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...] → each member's 11-character geohash, or null.
fn geohash_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let z = read_zset(ctx.engine, ctx.session.db, args[1])?;
    let hashes: Vec<Option<[u8; 11]>> = args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)).and_then(geohash::geohash_string))
        .collect();
    ctx.out.array(hashes.len());
    for h in hashes {
        match h {
            Some(h) => ctx.out.bulk(&h),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// One match of a search.
struct Point {
    member: Vec<u8>,
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// `membersOfAllNeighbors`: the members inside the search's shape, box by box in Redis's
/// order, at most `limit` of them when it is not 0 (ANY).
fn matches(z: &ZSetValue, search: &Search, limit: usize) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    let areas = search.areas();
    let mut last: Option<usize> = None;
    for (i, h) in areas.iter().enumerate() {
        if h.is_zero() {
            continue;
        }
        // Huge radii make neighbours repeat: skip a box equal to the one just scanned.
        if let Some(l) = last
            && areas[l] == *h
        {
            continue;
        }
        let (min, max) = geohash::score_range(*h);
        let range = ScoreRange {
            min: min as f64,
            max: max as f64,
            minex: false,
            maxex: true,
        };
        if let Some((first, end)) = z.score_range_ranks(&range) {
            z.for_ranks(first, end - first + 1, false, &mut |m, score| {
                if let Some((lon, lat)) = geohash::position(score)
                    && let Some(dist) = search.distance_if_within(lon, lat)
                {
                    out.push(Point {
                        member: m.to_vec(),
                        score,
                        lon,
                        lat,
                        dist,
                    });
                }
                !(limit != 0 && out.len() >= limit)
            });
        }
        last = Some(i);
        if limit != 0 && out.len() >= limit {
            break;
        }
    }
    out
}

/// `georadiusGeneric`: GEORADIUS / GEORADIUSBYMEMBER (and `_RO`), GEOSEARCH and
/// GEOSEARCHSTORE. `src` is the source key's index.
fn radius_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], src: usize, flags: u8) -> CmdResult {
    let src_key = args[src];
    let mut store: Option<&[u8]> = None;
    let mut storedist = false;
    let now = ctx.now_ms();
    let db = ctx.session.db;
    // The source (None when missing); positions of members are read from it while parsing.
    let exists = match ctx.engine.dbs[db].lookup_read(src_key, now) {
        None => false,
        Some(e) if matches!(e.value, Value::ZSet(_)) => true,
        Some(_) => return Err(CmdError::WrongType),
    };
    let member_pos = |ctx: &mut Ctx<'_>, m: &[u8]| -> Result<(f64, f64), CmdError> {
        let z = match ctx.engine.dbs[db].get_ref(src_key).map(|e| &e.value) {
            Some(Value::ZSet(z)) => z,
            _ => unreachable!("checked above"),
        };
        z.score(m)
            .and_then(geohash::position)
            .ok_or(CmdError::Static(
                "ERR could not decode requested zset member",
            ))
    };
    let mut center: Option<(f64, f64)> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base;
    if flags & RADIUS_COORDS != 0 {
        base = 6;
        match long_lat(&args[2..4]) {
            Ok(p) => center = Some(p),
            Err(e) => return lat_lon_fail(ctx, e),
        }
        let (r, conv) = radius_arg(&args[4..6])?;
        shape = Some((Shape::Circle { radius: r }, conv));
    } else if flags & RADIUS_MEMBER != 0 {
        base = 5;
        if exists {
            center = Some(member_pos(ctx, args[2])?);
            let (r, conv) = radius_arg(&args[3..5])?;
            shape = Some((Shape::Circle { radius: r }, conv));
        }
    } else if flags & SEARCHSTORE != 0 {
        base = 3;
        store = Some(args[1]);
    } else {
        base = 2;
    }
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let search = flags & SEARCH != 0;
    let nostore = flags & NOSTORE != 0;
    let rest = &args[base.min(args.len())..];
    let mut i = 0;
    while i < rest.len() {
        let arg = rest[i];
        let left = rest.len() - i - 1;
        if eq_ic(arg, "withdist") {
            withdist = true;
        } else if eq_ic(arg, "withhash") {
            withhash = true;
        } else if eq_ic(arg, "withcoord") {
            withcoord = true;
        } else if eq_ic(arg, "any") {
            any = true;
        } else if eq_ic(arg, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(arg, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(arg, "count") && left >= 1 {
            count = parse_i64(rest[i + 1])?;
            if count <= 0 {
                return Err(CmdError::Static("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (eq_ic(arg, "store") || eq_ic(arg, "storedist"))
            && left >= 1
            && !nostore
            && !search
        {
            store = Some(rest[i + 1]);
            storedist = eq_ic(arg, "storedist");
            i += 1;
        } else if eq_ic(arg, "storedist") && search && flags & SEARCHSTORE != 0 {
            storedist = true;
        } else if eq_ic(arg, "frommember") && left >= 1 && search && !fromloc {
            if exists {
                center = Some(member_pos(ctx, rest[i + 1])?);
            }
            frommember = true;
            i += 1;
        } else if eq_ic(arg, "fromlonlat") && left >= 2 && search && !frommember {
            match long_lat(&rest[i + 1..i + 3]) {
                Ok(p) => center = Some(p),
                Err(e) => return lat_lon_fail(ctx, e),
            }
            fromloc = true;
            i += 2;
        } else if eq_ic(arg, "byradius") && left >= 2 && search && !bybox {
            let (r, conv) = radius_arg(&rest[i + 1..i + 3])?;
            shape = Some((Shape::Circle { radius: r }, conv));
            byradius = true;
            i += 2;
        } else if eq_ic(arg, "bybox") && left >= 3 && search && !byradius {
            let (w, h, conv) = box_arg(&rest[i + 1..i + 4])?;
            shape = Some((
                Shape::Box {
                    width: w,
                    height: h,
                },
                conv,
            ));
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        return Err(CmdError::Owned(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & SEARCHSTORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    if search && !(frommember || fromloc) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            lossy_c_str(args[0])
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            lossy_c_str(args[0])
        )));
    }
    if any && count == 0 {
        return Err(CmdError::Static(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    if !exists {
        match store {
            // An empty result: the destination is deleted, as for an empty search.
            Some(dst) => {
                super::zset::store_result(ctx, dst, ZSetValue::new_skiplist(), "georadiusstore")
            }
            None => ctx.out.array(0),
        }
        return Ok(());
    }
    // COUNT without an order means the nearest ones (not with ANY).
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let ((lon, lat), (shape, conversion)) = match (center, shape) {
        (Some(c), Some(s)) => (c, s),
        _ => unreachable!("the checks above guarantee a centre and a shape"),
    };
    let search_area = Search {
        lon,
        lat,
        shape,
        conversion,
    };
    let limit = if any { count as usize } else { 0 };
    let mut points = {
        let Some(Value::ZSet(z)) = ctx.engine.dbs[db].get_ref(src_key).map(|e| &e.value) else {
            unreachable!("checked above")
        };
        matches(z, &search_area, limit)
    };
    let returned = if count == 0 {
        points.len()
    } else {
        points.len().min(count as usize)
    };
    match sort {
        Sort::Asc => points.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => points.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    points.truncate(returned);
    match store {
        None => {
            let options = usize::from(withdist) + usize::from(withcoord) + usize::from(withhash);
            ctx.out.array(points.len());
            for p in &points {
                if options > 0 {
                    ctx.out.array(options + 1);
                }
                ctx.out.bulk(&p.member);
                if withdist {
                    ctx.out
                        .bulk(geohash::fmt_distance(p.dist / conversion).as_bytes());
                }
                if withhash {
                    ctx.out.int(p.score as i64);
                }
                if withcoord {
                    ctx.out.array(2);
                    ctx.out.bulk(geohash::fmt_coord(p.lon).as_bytes());
                    ctx.out.bulk(geohash::fmt_coord(p.lat).as_bytes());
                }
            }
        }
        Some(dst) => {
            let lim = ctx.engine.config.zset_limits;
            let maxlen = points.iter().map(|p| p.member.len()).max().unwrap_or(0);
            let mut z = ZSetValue::new_for(points.len(), maxlen, lim);
            for p in &points {
                let score = if storedist {
                    p.dist / conversion
                } else {
                    p.score
                };
                z.insert_new(&p.member, score, lim);
            }
            let event = if search {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            // Redis counts one change per stored member.
            let n = points.len() as u64;
            super::zset::store_result_counting(ctx, dst, z, event, n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Harness;

    #[test]
    fn add_pos_dist_search() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&[
                "GEOADD",
                "g",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]),
            ":2\r\n"
        );
        assert_eq!(
            h.run(&["GEODIST", "g", "Palermo", "Catania", "km"]),
            "$8\r\n166.2742\r\n"
        );
        assert_eq!(
            h.run(&["GEOHASH", "g", "Palermo", "nope"]),
            "*2\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n"
        );
        assert_eq!(
            h.run(&["GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "ASC"]),
            "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"
        );
        assert_eq!(
            h.run(&["GEOADD", "g", "200", "10", "x"]),
            "-ERR invalid longitude,latitude pair 200.000000,10.000000\r\n"
        );
    }
}
