//! GEO and SORT through redis-py, and their results surviving restarts (RDB and AOF).

use crate::common::*;

const GEO_PY: &str = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
print(r.geoadd("Sicily", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]))
print(r.geodist("Sicily", "Palermo", "Catania", unit="km"))
print(r.geopos("Sicily", "Palermo", "nosuch"))
print(r.geohash("Sicily", "Palermo", "Catania"))
print(r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km",
                  sort="ASC", withdist=True, withcoord=True))
# 100 km high: Catania, 68 km south, is outside.
print(r.geosearch("Sicily", member="Palermo", width=400, height=100, unit="km", sort="DESC"))
print(r.geosearchstore("near", "Sicily", longitude=15, latitude=37, radius=100, unit="km",
                       storedist=True))
print(r.zrange("near", 0, -1, withscores=True))
print(r.georadiusbymember("Sicily", "Palermo", 300, unit="km", count=1, sort="ASC"))
try:
    r.geoadd("Sicily", [200, 100, "x"])
except redis.ResponseError as e:
    print("error:", e)
"#;

#[test]
fn geo_round_trips_through_redis_py() {
    let s = TestServer::start();
    let out = python(GEO_PY, &s.port().to_string());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "2",
            "166.2742",
            "[(13.361389338970184, 38.1155563954963), None]",
            "['sqc8b49rny0', 'sqdtr74hyu0']",
            "[['Catania', 56.4413, (15.087267458438873, 37.50266842333162)], \
             ['Palermo', 190.4424, (13.361389338970184, 38.1155563954963)]]",
            "['Palermo']",
            "1",
            "[('Catania', 56.4412578701582)]",
            "['Palermo']",
            "error: invalid longitude,latitude pair 200.000000,100.000000",
        ]
    );
}

const SORT_PY: &str = r##"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
r.rpush("ids", 3, 1, 2)
r.mset({"w_1": 30, "w_2": 10, "w_3": 20})
r.hset("user_1", "name", "ann")
r.hset("user_2", "name", "bob")
r.hset("user_3", "name", "cyd")
print(r.sort("ids", by="w_*", get=["#", "user_*->name"]))
print(r.sort("ids", by="w_*", get="user_*->name", store="names"))
print(r.sort("ids", desc=True, start=0, num=2))
print(r.sort_ro("ids", alpha=True))
r.geoadd("Sicily", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"])
"##;

const RELOAD_PY: &str = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
print(r.execute_command("DEBUG", "RELOAD"))
print(r.lrange("names", 0, -1), r.type("names"))
print(r.geodist("Sicily", "Palermo", "Catania", unit="km"))
print(r.info("persistence")["rdb_last_load_keys_loaded"])
# NOSAVE NOFLUSH MERGE: keys of the last save come back on top of the current data.
r.delete("names")
r.set("fresh", "1")
print(r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"))
print(r.lrange("names", 0, -1), r.get("fresh"))
try:
    r.execute_command("DEBUG", "RELOAD", "BOGUS")
except redis.ResponseError as e:
    print("error:", e)
"#;

#[test]
fn sort_store_survives_debug_reload() {
    let s = TestServer::start_with(&["--save", "", "--enable-debug-command", "local"]);
    let port = s.port().to_string();
    python(SORT_PY, &port);
    assert_eq!(
        python(RELOAD_PY, &port).lines().collect::<Vec<_>>(),
        [
            "OK",
            "['bob', 'cyd', 'ann'] list",
            "166.2742",
            "9",
            "OK",
            "['bob', 'cyd', 'ann'] 1",
            "error: DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
        ]
    );
}

/// SORT ... STORE and GEOADD results are written to the RDB by SAVE and replayed from the
/// AOF (GEOADD propagates as ZADD, SORT STORE as itself): both restarts give them back.
#[test]
fn sort_store_and_geo_survive_restarts() {
    for args in [&["--save", ""][..], &["--appendonly", "yes"][..]] {
        let s = TestServer::start_with(args);
        let out = python(SORT_PY, &s.port().to_string());
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "['2', 'bob', '3', 'cyd', '1', 'ann']",
                "3",
                "['3', '2']",
                "['1', '2', '3']",
            ]
        );
        if args[0] == "--save" {
            assert_eq!(s.cli(&["SAVE"]).trim(), "OK");
        }
        let dir = s.term();
        let s = TestServer::start_in(dir, args);
        assert_eq!(s.cli(&["LRANGE", "names", "0", "-1"]), "bob\ncyd\nann\n");
        assert_eq!(s.cli(&["TYPE", "names"]).trim(), "list");
        assert_eq!(
            s.cli(&["GEODIST", "Sicily", "Palermo", "Catania", "km"])
                .trim(),
            "166.2742"
        );
        assert_eq!(
            s.cli(&["ZSCORE", "Sicily", "Palermo"]).trim(),
            "3479099956230698"
        );
    }
}
