//! Geohash math for the GEO commands, ported from Redis 7.0's geohash.c and
//! geohash_helper.c: the 52-bit interleaved score, the step estimation, the bounding box,
//! the 9-box area search and the haversine distance. Same operations in the same order, so
//! member lists and printed distances match redis-server bit for bit.

/// Longitude limits.
pub const GEO_LONG_MIN: f64 = -180.0;
pub const GEO_LONG_MAX: f64 = 180.0;
/// Latitude limits of the Web Mercator projection Redis indexes.
pub const GEO_LAT_MIN: f64 = -85.05112878;
pub const GEO_LAT_MAX: f64 = 85.05112878;
/// 26 steps per axis: 52 bits, exactly representable in a double score.
pub const GEO_STEP_MAX: u8 = 26;

const D_R: f64 = std::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

/// An interleaved hash of `step` bits per axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's HASHISZERO: a neighbour excluded from the search.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell a hash covers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub hash: HashBits,
    pub longitude: Range,
    pub latitude: Range,
}

/// The 8 neighbours of a cell, in Redis's field order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// The search area: the centre cell and its (possibly zeroed) neighbours.
#[derive(Clone, Copy, Debug, Default)]
pub struct HashRadius {
    pub hash: HashBits,
    pub area: Area,
    pub neighbors: Neighbors,
}

impl HashRadius {
    /// The 9 cells in the order Redis's membersOfAllNeighbors visits them.
    pub fn cells(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// A search shape (Redis's GeoShape): centre, size in the caller's unit and the unit's
/// conversion factor to meters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    Radius(f64),
    /// width, height
    Box(f64, f64),
}

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// Spreads the 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into 32 bits.
fn squash(v: u64) -> u64 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// Latitude bits at even positions, longitude bits at odd ones.
fn interleave64(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// `lat | lon << 32`.
fn deinterleave64(v: u64) -> u64 {
    squash(v) | (squash(v >> 1) << 32)
}

/// C's double to uint32_t conversion for the in-range values geohashEncode produces.
fn to_u32(v: f64) -> u32 {
    v as u32
}

/// Redis's geohashEncode; None where Redis returns 0.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    lon: f64,
    lat: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || (lat_range.min == 0.0 && lat_range.max == 0.0) {
        return None;
    }
    if !(GEO_LONG_MIN..=GEO_LONG_MAX).contains(&lon) || !(GEO_LAT_MIN..=GEO_LAT_MAX).contains(&lat)
    {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || lon < long_range.min || lon > long_range.max {
        return None;
    }
    let mut lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (lon - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(HashBits {
        bits: interleave64(to_u32(lat_offset), to_u32(long_offset)),
        step,
    })
}

/// The WGS84 ranges Redis indexes with.
pub fn coord_ranges() -> (Range, Range) {
    (
        Range {
            min: GEO_LONG_MIN,
            max: GEO_LONG_MAX,
        },
        Range {
            min: GEO_LAT_MIN,
            max: GEO_LAT_MAX,
        },
    )
}

/// geohashEncodeWGS84.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    let (lo, la) = coord_ranges();
    encode(lo, la, lon, lat, step)
}

/// Redis's geohashDecode.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let step = hash.step;
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << step) as f64;
    Some(Area {
        hash,
        latitude: Range {
            min: lat_range.min + (ilato as f64 * 1.0 / div) * lat_scale,
            max: lat_range.min + (ilato.wrapping_add(1) as f64 * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (ilono as f64 * 1.0 / div) * long_scale,
            max: long_range.min + (ilono.wrapping_add(1) as f64 * 1.0 / div) * long_scale,
        },
    })
}

/// geohashDecodeAreaToLongLat: the cell's centre, clamped to the valid ranges.
fn area_to_lon_lat(a: &Area) -> [f64; 2] {
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(GEO_LONG_MIN, GEO_LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(GEO_LAT_MIN, GEO_LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` cast of a double as x86-64 compilers emit it (cvttsd2si, with 2^63
/// subtracted first for large values; out of range gives 0x8000000000000000). Scores set
/// by plain ZADD (negative, huge, infinite) decode to the same odd positions as in Redis.
fn c_double_to_u64(x: f64) -> u64 {
    if x < TWO63 {
        c_double_to_i64(x) as u64
    } else {
        (c_double_to_i64(x - TWO63) as u64) ^ (1 << 63)
    }
}

const TWO63: f64 = 9223372036854775808.0;

/// C's `(long long)` cast of a double on x86-64 (cvttsd2si): out of range and NaN give
/// 0x8000000000000000. WITHHASH prints a score this way.
pub fn c_double_to_i64(v: f64) -> i64 {
    if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Redis's decodeGeohash: a zset score back to (longitude, latitude).
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let bits = c_double_to_u64(score);
    let (lo, la) = coord_ranges();
    decode(
        lo,
        la,
        HashBits {
            bits,
            step: GEO_STEP_MAX,
        },
    )
    .map(|a| area_to_lon_lat(&a))
}

/// geohashAlign52Bits: the hash as a 52-bit score.
pub fn align52(h: HashBits) -> u64 {
    h.bits << (52 - h.step as u32 * 2)
}

/// The score GEOADD stores for a point (None outside the valid ranges).
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, GEO_STEP_MAX).map(align52)
}

/// The 11-character standard geohash GEOHASH replies (re-encoded over latitude ±90).
pub fn standard_geohash(score: f64) -> Option<String> {
    const ALPHABET: &[u8] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let xy = decode_score(score)?;
    let r_lon = Range {
        min: -180.0,
        max: 180.0,
    };
    let r_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    // Redis ignores a failed encode and prints the zeroed hash.
    let bits = encode(r_lon, r_lat, xy[0], xy[1], 26)
        .map(|h| h.bits)
        .unwrap_or(0);
    let mut s = String::with_capacity(11);
    for i in 0..11 {
        let idx = if i == 10 {
            0
        } else {
            ((bits >> (52 - ((i + 1) * 5))) & 0x1f) as usize
        };
        s.push(ALPHABET[idx] as char);
    }
    Some(s)
}

fn move_x(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn move_y(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

/// geohashNeighbors.
pub fn neighbors(h: &HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut n = *h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        south_west: at(-1, -1),
        north_east: at(1, 1),
        south_east: at(1, -1),
    }
}

/// geohashEstimateStepsByRadius: the step whose cells cover the radius.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range_meters = range_meters;
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

/// geohashBoundingBox: `[min_lon, min_lat, max_lon, max_lat]`.
pub fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box(w, h) => (shape.conversion * h / 2.0, shape.conversion * w / 2.0),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    [
        if southern {
            longitude - long_delta_bottom
        } else {
            longitude - long_delta_top
        },
        latitude - lat_delta,
        if southern {
            longitude + long_delta_bottom
        } else {
            longitude + long_delta_top
        },
        latitude + lat_delta,
    ]
}

/// geohashCalculateAreasByShapeWGS84: the centre cell and neighbours to scan.
pub fn areas_by_shape(shape: &Shape) -> HashRadius {
    let (long_range, lat_range) = coord_ranges();
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let mut radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
    };
    radius_meters *= shape.conversion;

    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    // The centre is validated by the callers; an invalid one gives Redis's zeroed hash.
    let enc = |steps| encode(long_range, lat_range, longitude, latitude, steps).unwrap_or_default();
    let dec = |h| decode(long_range, lat_range, h).unwrap_or_default();
    let mut hash = enc(steps);
    let mut nb = neighbors(&hash);
    let mut area = dec(hash);

    // Near a cell edge the estimated step may leave part of the area uncovered.
    let (north, south, east, west) = (dec(nb.north), dec(nb.south), dec(nb.east), dec(nb.west));
    let decrease_step = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease_step {
        steps -= 1;
        hash = enc(steps);
        nb = neighbors(&hash);
        area = dec(hash);
    }

    // Exclude the useless search areas.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            nb.south = zero;
            nb.south_west = zero;
            nb.south_east = zero;
        }
        if area.latitude.max > max_lat {
            nb.north = zero;
            nb.north_east = zero;
            nb.north_west = zero;
        }
        if area.longitude.min < min_lon {
            nb.west = zero;
            nb.south_west = zero;
            nb.north_west = zero;
        }
        if area.longitude.max > max_lon {
            nb.east = zero;
            nb.south_east = zero;
            nb.north_east = zero;
        }
    }
    HashRadius {
        hash,
        area,
        neighbors: nb,
    }
}

/// scoresOfGeoHashBox: the score interval `[min, max)` of a cell.
pub fn cell_scores(h: HashBits) -> (f64, f64) {
    let min = align52(h);
    let max = align52(HashBits {
        bits: h.bits.wrapping_add(1),
        step: h.step,
    });
    (min as f64, max as f64)
}

/// geohashGetDistance: haversine great-circle distance in meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// geoWithinShape after decoding: the distance to the centre (meters) when `(lon, lat)`
/// lies in the shape.
pub fn within_shape(shape: &Shape, lon: f64, lat: f64) -> Option<f64> {
    let [x1, y1] = shape.xy;
    match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(x1, y1, lon, lat);
            (d <= r * shape.conversion).then_some(d)
        }
        ShapeKind::Box(w, h) => {
            let (width_m, height_m) = (w * shape.conversion, h * shape.conversion);
            let lon_distance = distance(lon, lat, x1, lat);
            let lat_distance = distance(lon, lat, lon, y1);
            if lon_distance > width_m / 2.0 || lat_distance > height_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, lon, lat))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_score_and_position_match_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo; ZSCORE -> 3479099956230698
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        let xy = decode_score(3479099956230698.0).unwrap();
        assert_eq!(format!("{:.17}", xy[0]), "13.36138933897018433");
        assert_eq!(format!("{:.17}", xy[1]), "38.11555639549629859");
        assert_eq!(
            standard_geohash(3479099956230698.0).as_deref(),
            Some("sqc8b49rny0")
        );
    }

    #[test]
    fn palermo_catania_distance() {
        let p = decode_score(score_of(13.361389, 38.115556).unwrap() as f64).unwrap();
        let c = decode_score(score_of(15.087269, 37.502669).unwrap() as f64).unwrap();
        assert_eq!(
            format!("{:.4}", distance(p[0], p[1], c[0], c[1])),
            "166274.1516"
        );
    }

    #[test]
    fn score_casts_like_c() {
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(-2.5), u64::MAX - 1);
        assert_eq!(c_double_to_u64(0.5), 0);
        assert_eq!(c_double_to_u64(f64::INFINITY), 0);
        assert_eq!(c_double_to_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(c_double_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(c_double_to_u64(1e300), 0);
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let v = deinterleave64(interleave64(a, b));
            assert_eq!((v as u32, (v >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn out_of_range_points_do_not_encode() {
        assert_eq!(score_of(180.1, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
        assert!(score_of(180.0, GEO_LAT_MAX).is_some());
    }

    #[test]
    fn steps_shrink_with_radius_and_near_poles() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert!(estimate_steps_by_radius(1000.0, 0.0) > estimate_steps_by_radius(100_000.0, 0.0));
        assert_eq!(
            estimate_steps_by_radius(1000.0, 81.0) + 2,
            estimate_steps_by_radius(1000.0, 0.0)
        );
        assert_eq!(estimate_steps_by_radius(1e9, 0.0), 1);
    }

    #[test]
    fn neighbours_are_adjacent_cells() {
        let h = encode_wgs84(13.36, 38.11, 10).unwrap();
        let n = neighbors(&h);
        let (lo, la) = coord_ranges();
        let c = decode(lo, la, h).unwrap();
        let e = decode(lo, la, n.east).unwrap();
        let no = decode(lo, la, n.north).unwrap();
        assert!((e.longitude.min - c.longitude.max).abs() < 1e-9);
        assert!((no.latitude.min - c.latitude.max).abs() < 1e-9);
    }
}
