// The JSON value encoding of dumps (round trips of every value kind, golden forms, rejects), and
// dump -> restore -> dump and repair on a real store driven by a Coordinator.
#include "scheduler/dump.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "scheduler/repair.h"
#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using coordinated::scheduler::Base64Decode;
using coordinated::scheduler::Base64Encode;
using coordinated::scheduler::ClearStore;
using coordinated::scheduler::DumpCounts;
using coordinated::scheduler::DumpOptions;
using coordinated::scheduler::DumpStore;
using coordinated::scheduler::IsValidUtf8;
using coordinated::scheduler::Json;
using coordinated::scheduler::JsonLine;
using coordinated::scheduler::RepairStore;
using coordinated::scheduler::RestoreOptions;
using coordinated::scheduler::RestoreStore;
using coordinated::scheduler::StoreIsEmpty;
using coordinated::scheduler::ValueFromJson;
using coordinated::scheduler::ValueToJson;

// Encodes, prints as text, parses, decodes: the CBOR bytes must come back identical.
void ExpectRoundTrip(const Value& v) {
  const std::string line = JsonLine(ValueToJson(v));
  Json parsed = Json::parse(line);
  auto back = ValueFromJson(parsed);
  ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
  EXPECT_EQ(Enc(*back), Enc(v)) << "value " << v.ToDiagnostic() << "\njson " << line << "\nback "
                                << back->ToDiagnostic();
}

std::string JsonOf(const Value& v) { return JsonLine(ValueToJson(v)); }

Value MapFrom(std::vector<std::pair<Value, Value>> entries) {
  Value m = Value::Map();
  for (auto& [k, v] : entries) m.AppendEntry(std::move(k), std::move(v));
  return m;
}

TEST(ValueJsonTest, ScalarsRoundTrip) {
  for (const Value& v : {Value::Null(),
                         Value::Undefined(),
                         Value::Bool(true),
                         Value::Bool(false),
                         U(0),
                         U(1),
                         U(std::numeric_limits<uint64_t>::max()),
                         Value::Int(-1),
                         Value::Int(std::numeric_limits<int64_t>::min()),
                         Value::NegIntArg(std::numeric_limits<uint64_t>::max()),  // -2^64
                         Value::NegIntArg(uint64_t{1} << 63),                     // -2^63 - 1
                         D(0.0),
                         D(-0.0),
                         D(1.0),
                         D(0.1),
                         D(-2.5),
                         D(1e300),
                         D(5e-324),
                         D(1e16),
                         D(123456789.125),
                         D(std::numeric_limits<double>::infinity()),
                         D(-std::numeric_limits<double>::infinity()),
                         D(std::numeric_limits<double>::quiet_NaN()),
                         Value::Simple(16),
                         Value::Simple(255)}) {
    ExpectRoundTrip(v);
  }
}

TEST(ValueJsonTest, NanPayloadKept) {
  const uint64_t bits = 0x7ff0000000000123ull;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  EXPECT_EQ(JsonOf(D(d)), R"({"$float":"nan:7ff0000000000123"})");
  ExpectRoundTrip(D(d));
}

TEST(ValueJsonTest, StringsRoundTrip) {
  for (const Value& v :
       {B(""), T(""), B("plain"), T("plain"), T("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
        B("caf\xc3\xa9"), B(std::string("nul\0byte", 8)), B("\xff\xfe\x80"), T("\xc3\x28"),
        T("\xed\xa0\x80"), B("\xe0\x80\xaf"), T("\x1b[31mred"), B("$bytes"), T("$tuple"),
        T("line\nbreak\t\"quoted\"\\")}) {
    ExpectRoundTrip(v);
  }
}

TEST(ValueJsonTest, GoldenForms) {
  EXPECT_EQ(JsonOf(B("abc")), R"({"$bytes":"abc"})");
  EXPECT_EQ(JsonOf(B(std::string("\xff\x00", 2))), R"({"$base64":"/wA="})");
  EXPECT_EQ(JsonOf(T("abc")), R"("abc")");
  EXPECT_EQ(JsonOf(T("\xff")), R"({"$text_base64":"/w=="})");
  EXPECT_EQ(JsonOf(D(1.0)), "1.0");
  EXPECT_EQ(JsonOf(U(1)), "1");
  EXPECT_EQ(JsonOf(Value::Int(-5)), "-5");
  EXPECT_EQ(JsonOf(Value::NegIntArg(std::numeric_limits<uint64_t>::max())),
            R"({"$int":"-18446744073709551616"})");
  EXPECT_EQ(JsonOf(D(std::numeric_limits<double>::infinity())), R"({"$float":"inf"})");
  EXPECT_EQ(JsonOf(Value::Tuple({U(1), B("x")})), R"({"$tuple":[1,{"$bytes":"x"}]})");
  EXPECT_EQ(JsonOf(Value::Uuid(std::string(
                "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef", 16))),
            R"({"$uuid":"12345678-9abc-def0-0123-456789abcdef"})");
  EXPECT_EQ(JsonOf(Value::Tag(1, U(7))), R"({"$tag":1,"value":7})");
  EXPECT_EQ(JsonOf(MapFrom({{T("b"), U(1)}, {T("a"), U(2)}})), R"({"b":1,"a":2})");
  EXPECT_EQ(JsonOf(MapFrom({{B("k"), B("v")}})), R"({"$bmap":{"k":{"$bytes":"v"}}})");
  EXPECT_EQ(JsonOf(MapFrom({{U(1), T("one")}})), R"({"$map":[[1,"one"]]})");
  EXPECT_EQ(JsonOf(Value::Undefined()), R"({"$undefined":true})");
}

TEST(ValueJsonTest, ContainersRoundTrip) {
  const Value uuid = Value::Uuid(std::string(16, '\x42'));
  for (const Value& v :
       {Value::Array(), Value::Tuple(), Value::Map(),
        Value::Array({U(1), D(1.0), T("1"), B("1"), Value::Null()}),
        Value::Tuple({Value::Tuple({U(1)}), Value::Array({Value::Tuple()})}),
        MapFrom({{T("z"), U(1)}, {T("a"), U(2)}, {T("m"), Value::Map()}}),  // order kept
        MapFrom({{B("k1"), B("v")}, {B("k2"), Value::Tuple({B("x"), D(2.0)})}}),
        MapFrom({{B("k"), U(1)}, {T("k"), U(2)}}),      // mixed kinds
        MapFrom({{T("dup"), U(1)}, {T("dup"), U(2)}}),  // duplicates
        MapFrom({{B("dup"), U(1)}, {B("dup"), U(2)}}),
        MapFrom({{T("$bytes"), T("not a wrapper")}}),  // '$' keys
        MapFrom({{B("$tuple"), U(1)}}),
        MapFrom({{U(1), U(2)},
                 {Value::Int(-3), D(0.5)},
                 {Value::Tuple({U(1), U(2)}), B("t")},
                 {Value::Null(), Value::Bool(true)},
                 {D(1.5), T("f")},
                 {uuid, uuid}}),
        MapFrom({{B("\xff\xfe"), T("bad key")}}), Value::Tag(37, B("short")),  // not a UUID
        Value::Tag(24, B(Enc(U(5)))), Value::Tag(1000, MapFrom({{T("a"), Value::Tag(2, B("x"))}})),
        uuid}) {
    ExpectRoundTrip(v);
  }
}

TEST(ValueJsonTest, PlainJsonDecodes) {
  auto v = ValueFromJson(Json::parse(R"({"a": [1, -2, 2.5, "s", null, true], "b": {}})"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  Value want = MapFrom({{T("a"), Value::Array({U(1), Value::Int(-2), D(2.5), T("s"), Value::Null(),
                                               Value::Bool(true)})},
                        {T("b"), Value::Map()}});
  EXPECT_EQ(Enc(*v), Enc(want));
}

TEST(ValueJsonTest, RejectsMalformedForms) {
  for (const char* bad :
       {R"({"$what": 1})", R"({"$bytes": 1})", R"({"$base64": "abc"})", R"({"$base64": "a*=="})",
        R"({"$uuid": "nope"})", R"({"$float": "big"})", R"({"$int": "12x"})",
        R"({"$int": "-18446744073709551617"})", R"({"$map": [[1]]})", R"({"$tuple": {}})",
        R"({"$bytes": "a", "$x": 1})", R"({"$simple": 256})", R"({"$tag": -1, "value": 1})"}) {
    auto v = ValueFromJson(Json::parse(bad));
    EXPECT_FALSE(v.ok()) << bad << " decoded as " << v->ToDiagnostic();
  }
}

TEST(ValueJsonTest, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(Base64Decode("Zg=").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zg=a").ok());
}

TEST(ValueJsonTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

// ---- dump and restore over a real store -------------------------------------------------------

class DumpStoreTest : public CoordinatorTest {
 protected:
  std::string Dump(const storage::Store& s, DumpCounts* counts = nullptr) {
    std::ostringstream out;
    DumpOptions o;
    o.daemon_version = "test";
    o.now = 1234567890.5;
    auto r = DumpStore(s, out, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (counts && r.ok()) *counts = *r;
    return out.str();
  }

  // Specs and units of every status and value kind.
  void Populate() {
    Spec("plain");
    SetSpec(coordinated::MapOf(
        {{"name", T("t\xc3\xa9xt")}, {"then", B("plain")}, {"weight", U(3)}, {"f", D(2.0)}}));
    Add("plain", {Item(B("a"), coordinated::MapOf({{"x", Value::Tuple({U(1), D(1.0)})}})),
                  Item(T("caf\xc3\xa9"), Value::Map(), coordinated::MapOf({{"priority", D(5)}})),
                  Item(B("\xff\x01"), Value::Array({Value::Uuid(std::string(16, '\x07'))})),
                  Item(B("later"), Value::Map(), coordinated::MapOf({{"delay", U(100)}})),
                  Item(B("done")), Item(B("bad")), Item(B("held"))});
    Work("w1", 1, 300, std::vector<std::string>{"plain"});  // leases the best: café
    Finish("plain", "a");
    Update("plain", B("bad"),
           coordinated::MapOf({{"status", U(storage::kFailed)},
                               {"data", coordinated::MapOf({{"traceback", B("boom")}})}}));
    auto r = coord_->AddDependentWorkUnits(
        Value::Tuple({T("t\xc3\xa9xt"), B("child"), Value::Null()}),
        Value::Tuple({B("plain"), B("held"), Value::Null()}), Value::Bool(true));
    ASSERT_TRUE(r.ok() && r->first) << (r.ok() ? r->second : r.status().ToString());
    ASSERT_TRUE(coord_
                    ->WorkerHeartbeat(B("w1"), B("RUN"), U(600),
                                      coordinated::MapOf({{"host", B("h")}}), Value::Null())
                    .ok());
    ASSERT_TRUE(
        coord_->WorkerHeartbeat(T("child"), T("IDLE"), D(60.5), Value::Map(), B("w1")).ok());
    ASSERT_TRUE(
        coord_->Lock(B("locker"), U(30), Value::Array({Value::Array({B("ns"), T("x"), U(3)})}))
            .ok());
    ASSERT_TRUE(coord_->SetMode("IDLE").ok());
    Check("populated");
  }
};

TEST_F(DumpStoreTest, RoundTripIsExact) {
  Populate();
  DumpCounts counts;
  const std::string first = Dump(*store(), &counts);
  EXPECT_EQ(counts.specs, 2u);
  EXPECT_EQ(counts.units, 8u);  // 7 in "plain", "child" created by the dependency
  EXPECT_EQ(counts.deps, 1u);
  EXPECT_EQ(counts.workers, 2u);
  EXPECT_EQ(counts.locks, 1u);
  EXPECT_EQ(counts.worker_units, 1u);
  EXPECT_NE(first.find("\"status\":\"blocked\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"status\":\"pending\""), std::string::npos);
  EXPECT_NE(first.find("\"status\":\"failed\""), std::string::npos);
  EXPECT_NE(first.find("\"status\":\"finished\""), std::string::npos);

  TempDir other;
  auto target = OpenStoreAt(other.path() + "/db");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  std::istringstream in(first);
  auto r = RestoreStore(target->get(), in, RestoreOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, counts);
  EXPECT_EQ(Dump(**target), first);

  // The restored store is sound and schedules like the original.
  FakeClock clock(clock_.Now());
  Coordinator restored(target->get(), &clock, CoordinatorOptions());
  ASSERT_TRUE(restored.Load().ok());
  EXPECT_TRUE(restored.CheckConsistency().empty()) << Join(restored.CheckConsistency());
  EXPECT_EQ(restored.GetMode(), "IDLE");
}

TEST_F(DumpStoreTest, RefusesNonEmptyTargetUnlessForced) {
  Populate();
  const std::string dump = Dump(*store());
  std::istringstream in(dump);
  auto r = RestoreStore(store(), in, RestoreOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);

  coord_.reset();
  RestoreOptions force;
  force.force = true;
  std::istringstream again(dump);
  r = RestoreStore(store(), again, force);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Dump(*store()), dump);
}

TEST_F(DumpStoreTest, TruncatedOrAlteredDumpsAreErrors) {
  Populate();
  const std::string dump = Dump(*store());
  const size_t cut = dump.rfind('\n', dump.size() - 2);
  {
    TempDir d;
    auto t = OpenStoreAt(d.path() + "/db");
    ASSERT_TRUE(t.ok());
    std::istringstream in(dump.substr(0, cut + 1));  // without the trailer
    auto r = RestoreStore(t->get(), in, RestoreOptions());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("trailer"), std::string::npos);
  }
  {
    TempDir d;
    auto t = OpenStoreAt(d.path() + "/db");
    ASSERT_TRUE(t.ok());
    std::string altered = dump;
    const size_t at = altered.find("\"host\"");
    ASSERT_NE(at, std::string::npos);
    altered.replace(at, 6, "\"HOST\"");
    std::istringstream in(altered);
    auto r = RestoreStore(t->get(), in, RestoreOptions());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().ToString();
  }
  {
    TempDir d;
    auto t = OpenStoreAt(d.path() + "/db");
    ASSERT_TRUE(t.ok());
    std::string newer = dump;
    const size_t at = newer.find("\"format_version\":1");
    ASSERT_NE(at, std::string::npos);
    newer.replace(at, 18, "\"format_version\":9");
    std::istringstream in(newer);
    auto r = RestoreStore(t->get(), in, RestoreOptions());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  }
}

TEST_F(DumpStoreTest, EmptyAndClear) {
  auto e = StoreIsEmpty(*store());
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(*e);
  Populate();
  e = StoreIsEmpty(*store());
  EXPECT_FALSE(*e);
  coord_.reset();
  ASSERT_TRUE(ClearStore(store()).ok());
  e = StoreIsEmpty(*store());
  EXPECT_TRUE(*e);
}

TEST_F(DumpStoreTest, RepairRebuildsDerivedData) {
  Populate();
  const std::string before = Dump(*store());
  coord_.reset();
  // Damage: drop a ready entry, a by_status entry and a reverse edge; add a stale lease entry;
  // change a counter; break a blocker count.
  storage::WriteBatch b;
  std::string id1 = storage::keys::Spec(1);
  {
    auto it = store()->NewIterator(storage::Cf::kReady, id1, storage::keys::PrefixEnd(id1));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    b.Delete(storage::Cf::kReady, it->key());
  }
  {
    auto it = store()->NewIterator(storage::Cf::kByStatus, id1, storage::keys::PrefixEnd(id1));
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    b.Delete(storage::Cf::kByStatus, it->key());
  }
  {
    auto it = store()->NewIterator(storage::Cf::kDepsReverse, "", "");
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    b.Delete(storage::Cf::kDepsReverse, it->key());
  }
  b.Put(storage::Cf::kLeases, storage::keys::Lease(1, 5.0, "a"), "");
  storage::SpecStats stats;
  stats.counts[storage::kAvailable] = 99;
  stats.archived[storage::kFinished] = 4;
  stats.next_continuous = 7.5;
  b.Put(storage::Cf::kMeta, storage::keys::SpecStats(1), storage::EncodeStats(stats));
  ASSERT_TRUE(store()->Write(b).ok());

  MakeCoordinator();
  EXPECT_GE(coord_->CheckConsistency().size(), 4u) << Join(coord_->CheckConsistency());
  coord_.reset();

  auto report = RepairStore(store());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->counters_fixed, 1u);
  EXPECT_EQ(report->reverse_edges_written, 1u);
  MakeCoordinator();
  EXPECT_TRUE(coord_->CheckConsistency().empty()) << Join(coord_->CheckConsistency());
  // Archived counts and next_continuous survive; the rest is as before.
  const auto& s = *coord_->specs().at("plain");
  EXPECT_EQ(s.stats.archived[storage::kFinished], 4u);
  EXPECT_EQ(s.stats.next_continuous, 7.5);
  EXPECT_EQ(s.stats.counts[storage::kAvailable], 4u);  // \xff\x01, later (delayed), done, held
  (void)before;
}

TEST_F(DumpStoreTest, CheckReportsAShortIndexKeyAndRepairRemovesIt) {
  Populate();
  coord_.reset();
  // A damaged store: a ready entry of spec 1 with nothing after the spec id and two bytes.
  storage::WriteBatch b;
  b.Put(storage::Cf::kReady, storage::keys::Spec(1) + std::string("\x01\x02", 2), "");
  ASSERT_TRUE(store()->Write(b).ok());
  MakeCoordinator();
  const auto problems = coord_->CheckConsistency();
  bool reported = false;
  for (const auto& p : problems) reported |= p.find("malformed ready index key") != p.npos;
  EXPECT_TRUE(reported) << Join(problems);
  coord_.reset();
  auto report = RepairStore(store());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  MakeCoordinator();
  EXPECT_TRUE(coord_->CheckConsistency().empty()) << Join(coord_->CheckConsistency());
}

// A PENDING unit whose open attempt is still a stored record (a version-3 store whose lease
// entry was lost before the migration, which walks the leases): check reports it, repair
// moves the record's start into the unit record and deletes the record.
TEST_F(DumpStoreTest, RepairFoldsAStoredOpenAttemptIntoItsUnit) {
  Populate();
  coord_.reset();
  const std::string key = storage::keys::Unit(1, "caf\xc3\xa9");
  std::string v;
  ASSERT_TRUE(store()->Get(storage::Cf::kUnits, key, &v).ok());
  auto u = storage::DecodeUnit(v);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->status, storage::kPending);
  ASSERT_EQ(u->attempts, 1u);
  u->lease_start = 0;
  storage::AttemptRecord open;
  open.worker_id = B("w1");
  open.start = 123.5;
  open.expires = *u->expiration;
  storage::WriteBatch b;
  b.Put(storage::Cf::kUnits, key, storage::EncodeUnit(*u));
  b.Put(storage::Cf::kAttempts, storage::keys::Attempt(1, "caf\xc3\xa9", 1),
        storage::EncodeAttempt(open));
  ASSERT_TRUE(store()->Write(b).ok());
  MakeCoordinator();
  const auto problems = coord_->CheckConsistency();
  bool reported = false;
  for (const auto& p : problems) reported |= p.find("open attempt 1 has a stored record") != p.npos;
  EXPECT_TRUE(reported) << Join(problems);
  coord_.reset();
  auto report = RepairStore(store());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->open_attempts_folded, 1u);
  EXPECT_FALSE(
      store()->Get(storage::Cf::kAttempts, storage::keys::Attempt(1, "caf\xc3\xa9", 1), &v).ok());
  ASSERT_TRUE(store()->Get(storage::Cf::kUnits, key, &v).ok());
  EXPECT_EQ(storage::DecodeUnit(v)->lease_start, 123.5);
  MakeCoordinator();
  EXPECT_TRUE(coord_->CheckConsistency().empty()) << Join(coord_->CheckConsistency());
  auto attempts = coord_->GetWorkUnitAttempts(B("plain"), T("caf\xc3\xa9"));
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].FindKey("start")->as_double(), 123.5);
  EXPECT_EQ(Enc(*(*attempts)[0].FindKey("status")), Enc(B("pending")));
}

TEST_F(DumpStoreTest, RepairFixesBlockerCounts) {
  Populate();
  coord_.reset();
  // The dependent unit loses its blocker count: it would be AVAILABLE without its edge's say.
  const std::string key = storage::keys::Unit(2, "child");
  std::string v;
  ASSERT_TRUE(store()->Get(storage::Cf::kUnits, key, &v).ok());
  auto u = storage::DecodeUnit(v);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->status, storage::kBlocked);
  u->blockers = 0;
  u->status = storage::kAvailable;
  storage::WriteBatch b;
  b.Put(storage::Cf::kUnits, key, storage::EncodeUnit(*u));
  ASSERT_TRUE(store()->Write(b).ok());
  MakeCoordinator();
  EXPECT_FALSE(coord_->CheckConsistency().empty());
  coord_.reset();
  auto report = RepairStore(store());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->blockers_fixed, 1u);
  MakeCoordinator();
  EXPECT_TRUE(coord_->CheckConsistency().empty()) << Join(coord_->CheckConsistency());
  ASSERT_TRUE(store()->Get(storage::Cf::kUnits, key, &v).ok());
  EXPECT_EQ(storage::DecodeUnit(v)->status, storage::kBlocked);
}

}  // namespace
}  // namespace coordtest
