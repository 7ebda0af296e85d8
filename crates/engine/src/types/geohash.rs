//! Redis's geohash (geohash.c, geohash_helper.c): 52-bit interleaved scores for sorted-set
//! members, the 9-box search areas of a radius or box query, and the haversine distance,
//! computed with the same formulas and operation order as Redis 7.0 so scores, positions and
//! distances print identically.
//!
//! Latitude bits sit at even positions, longitude bits at odd ones; a score is `bits` of a
//! step-26 hash, so it fits a double exactly. Positions are the centre of a hash's cell.

/// `GEO_STEP_MAX`: 26 bits per coordinate.
pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// Redis's WGS84 ranges (latitude limited to the Web Mercator band).
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    /// `HASHISZERO`.
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
    /// `geohashAlign52Bits`.
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

fn squash(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// `geohashEncode`: None outside the ranges (or Redis's WGS84 limits).
pub fn encode(long_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < long_r.min || lon > long_r.max {
        return None;
    }
    let mut lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    let mut long_off = (lon - long_r.min) / (long_r.max - long_r.min);
    lat_off *= (1u64 << step) as f64;
    long_off *= (1u64 << step) as f64;
    // C's double → uint32_t conversion truncates.
    Some(Hash {
        bits: spread(lat_off as u32) | (spread(long_off as u32) << 1),
        step,
    })
}

/// `geohashEncodeWGS84` at full precision: the score of a position.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, STEP_MAX).map(Hash::align52)
}

/// `geohashDecode`.
pub fn decode(long_r: Range, lat_r: Range, h: Hash) -> Option<Area> {
    if h.is_zero() {
        return None;
    }
    let ilato = squash(h.bits);
    let ilono = squash(h.bits >> 1);
    let div = (1u64 << h.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let long_scale = long_r.max - long_r.min;
    Some(Area {
        latitude: Range {
            min: lat_r.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_r.min + ((f64::from(ilato) + 1.0) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_r.min + (f64::from(ilono) * 1.0 / div) * long_scale,
            max: long_r.min + ((f64::from(ilono) + 1.0) * 1.0 / div) * long_scale,
        },
    })
}

/// `decodeGeohash`: the (longitude, latitude) a score stands for (its cell's centre,
/// clamped to the WGS84 limits).
pub fn position(score: f64) -> Option<(f64, f64)> {
    let h = Hash {
        bits: score as u64,
        step: STEP_MAX,
    };
    let a = decode(LONG_RANGE, LAT_RANGE, h)?;
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some((lon, lat))
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// `geohashGetDistance`: haversine distance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lat1r = deg_rad(lat1);
    let lon1r = deg_rad(lon1);
    let lat2r = deg_rad(lat2);
    let lon2r = deg_rad(lon2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// A search shape: a circle (`radius`) or an axis-aligned box (`width` × `height`), in the
/// query's unit, with `conversion` its size in meters.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    pub conversion: f64,
}

impl Search {
    /// `geoWithinShape`: the distance to the centre when (lon, lat) is inside the shape.
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Circle { radius } => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= radius * self.conversion).then_some(d)
            }
            Shape::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                let lon_d = distance(lon, lat, self.lon, lat);
                let lat_d = distance(lon, lat, lon, self.lat);
                if lon_d > w / 2.0 || lat_d > h / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// `geohashBoundingBox`: (min lon, min lat, max lon, max lat).
    fn bounds(&self) -> [f64; 4] {
        let (h, w) = match self.shape {
            Shape::Circle { radius } => (radius, radius),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let (height, width) = (self.conversion * h, self.conversion * w);
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat - lat_delta).cos());
        let southern = self.lat < 0.0;
        let d = if southern {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.lon - d,
            self.lat - lat_delta,
            self.lon + d,
            self.lat + lat_delta,
        ]
    }

    /// `geohashCalculateAreasByShapeWGS84`: the centre cell and its eight neighbours, in
    /// Redis's order (centre, N, S, E, W, NE, NW, SE, SW), useless ones zeroed.
    pub fn areas(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let radius_meters = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, self.lat);
        let cell = |steps: u8| {
            let h = encode(LONG_RANGE, LAT_RANGE, self.lon, self.lat, steps).unwrap_or_default();
            let n = neighbors(h);
            let area = decode(LONG_RANGE, LAT_RANGE, h);
            (h, n, area)
        };
        let (mut hash, mut nb, mut area) = cell(steps);
        let dec = |x: Hash| decode(LONG_RANGE, LAT_RANGE, x);
        let decrease = dec(nb[0]).is_some_and(|a| a.latitude.max < max_lat)
            || dec(nb[1]).is_some_and(|a| a.latitude.min > min_lat)
            || dec(nb[2]).is_some_and(|a| a.longitude.max < max_lon)
            || dec(nb[3]).is_some_and(|a| a.longitude.min > min_lon);
        if steps > 1 && decrease {
            steps -= 1;
            (hash, nb, area) = cell(steps);
        }
        // nb: [north, south, east, west, north_east, north_west, south_east, south_west]
        let [mut n, mut s, mut e, mut w, mut ne, mut nw, mut se, mut sw] = nb;
        if steps >= 2
            && let Some(a) = area
        {
            let zero = Hash::default();
            if a.latitude.min < min_lat {
                (s, sw, se) = (zero, zero, zero);
            }
            if a.latitude.max > max_lat {
                (n, ne, nw) = (zero, zero, zero);
            }
            if a.longitude.min < min_lon {
                (w, sw, nw) = (zero, zero, zero);
            }
            if a.longitude.max > max_lon {
                (e, se, ne) = (zero, zero, zero);
            }
        }
        [hash, n, s, e, w, ne, nw, se, sw]
    }
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn move_x(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    h.bits = x | y;
}

fn move_y(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(h.step) * 2;
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    h.bits = x | y;
}

/// `geohashNeighbors`: [north, south, east, west, north_east, north_west, south_east,
/// south_west].
fn neighbors(h: Hash) -> [Hash; 8] {
    let mv = |dx: i8, dy: i8| {
        let mut n = h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    };
    [
        mv(0, 1),
        mv(0, -1),
        mv(1, 0),
        mv(-1, 0),
        mv(1, 1),
        mv(-1, 1),
        mv(1, -1),
        mv(-1, -1),
    ]
}

/// The score range `[min, max)` of every full-precision score inside cell `h`
/// (`scoresOfGeoHashBox`).
pub fn score_range(h: Hash) -> (u64, u64) {
    let min = h.align52();
    let max = Hash {
        bits: h.bits + 1,
        step: h.step,
    }
    .align52();
    (min, max)
}

/// GEOHASH's 11-character base32 string of a score (re-encoded with the standard
/// latitude range -90..90).
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = position(score)?;
    let h = encode(
        LONG_RANGE,
        Range {
            min: -90.0,
            max: 90.0,
        },
        lon,
        lat,
        26,
    )?;
    let mut out = [0u8; 11];
    for (i, o) in out.iter_mut().enumerate() {
        let idx = if i == 10 {
            0
        } else {
            ((h.bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
        };
        *o = ALPHABET[idx];
    }
    Some(out)
}

/// `%.17Lf` with trailing zeros (and a bare point) removed: how Redis prints coordinates
/// (`addReplyHumanLongDouble` of a double).
pub fn fmt_coord(v: f64) -> String {
    let s = format!("{v:.17}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// `%.4f`: how Redis prints distances.
pub fn fmt_distance(v: f64) -> String {
    format!("{v:.4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores and positions as Redis 7.0.15 gives them (GEOADD + ZSCORE / GEOPOS / GEOHASH).
    #[test]
    fn palermo_as_redis() {
        let s = score_of(13.361389, 38.115556).unwrap();
        assert_eq!(s, 3479099956230698);
        let (lon, lat) = position(s as f64).unwrap();
        assert_eq!(fmt_coord(lon), "13.36138933897018433");
        assert_eq!(fmt_coord(lat), "38.11555639549629859");
        assert_eq!(&geohash_string(s as f64).unwrap(), b"sqc8b49rny0");
        let c = score_of(15.087269, 37.502669).unwrap();
        assert_eq!(c, 3479447370796909);
        let (lon2, lat2) = position(c as f64).unwrap();
        assert_eq!(
            fmt_distance(distance(lon, lat, lon2, lat2) / 1000.0),
            "166.2742"
        );
    }

    #[test]
    fn interleave_round_trips() {
        for v in [0u32, 1, 0x3ff_ffff, 0x1234_5678, u32::MAX] {
            assert_eq!(squash(spread(v)), v);
            assert_eq!(squash(spread(v) << 1 >> 1), v);
        }
    }
}
