#include "storage/records.h"

#include <cstring>

#include "common/cbor.h"
#include "common/cbor_direct.h"
#include "storage/keys.h"

namespace coordinated::storage {

namespace {

constexpr uint64_t kRecordVersion = 1;

// Records are written field by field, without building a Value tree first: the same bytes as
// EncodeCbor of the equivalent array (records_test.cc pins them), at a fraction of the
// allocations (the per-spec counters are encoded on every write).
void PutUInt(uint64_t n, std::string* out) { EncodeHead(0, n, out); }
void PutDouble(double d, std::string* out) { EncodeCbor(Value::Double(d), out); }
void PutOptDouble(const std::optional<double>& d, std::string* out) {
  if (d) {
    PutDouble(*d, out);
  } else {
    out->push_back(static_cast<char>(0xf6));  // null
  }
}
void PutRecordHead(size_t fields, std::string* out) {
  EncodeHead(4, fields, out);  // array
  PutUInt(kRecordVersion, out);
}

// Decodes a record array, checking version and minimum length.
StatusOr<Value> Open(std::string_view bytes, size_t min_len, std::string_view what) {
  auto v = DecodeCbor(bytes);
  if (!v.ok()) return Status::Corruption(std::string(what) + " record: " + v.status().message());
  if (!v->is_array() || v->items().size() < min_len || !v->items()[0].is_int()) {
    return Status::Corruption(std::string(what) + " record has the wrong shape");
  }
  if (v->items()[0].kind() != Value::Kind::kUInt || v->items()[0].raw_num() != kRecordVersion) {
    return Status::Corruption(std::string(what) + " record has an unknown version");
  }
  return v;
}

double Num(const Value& v) { return v.AsNumber().value_or(0); }
std::optional<double> OptNum(const Value& v) {
  if (v.is_null()) return std::nullopt;
  return v.AsNumber();
}
uint64_t U(const Value& v) { return v.kind() == Value::Kind::kUInt ? v.raw_num() : 0; }

}  // namespace

std::string EncodeSpec(const SpecRecord& r) {
  return EncodeCbor(Value::Array({Value::UInt(kRecordVersion), r.name, r.definition, r.control}));
}
StatusOr<SpecRecord> DecodeSpec(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 4, "spec"));
  auto& it = v.mutable_items();
  return SpecRecord{std::move(it[1]), std::move(it[2]), std::move(it[3])};
}

std::string EncodeStats(const SpecStats& s) {
  std::string out;
  out.reserve(32);
  PutRecordHead(4, &out);
  EncodeHead(4, 5, &out);
  for (int i = 1; i <= 5; ++i) PutUInt(s.counts[i], &out);
  EncodeHead(4, 5, &out);
  for (int i = 1; i <= 5; ++i) PutUInt(s.archived[i], &out);
  PutDouble(s.next_continuous, &out);
  return out;
}
StatusOr<SpecStats> DecodeStats(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 4, "stats"));
  SpecStats s;
  const auto& c = v.items()[1];
  const auto& a = v.items()[2];
  if (!c.is_array() || !a.is_array() || c.items().size() != 5 || a.items().size() != 5) {
    return Status::Corruption("stats record has the wrong shape");
  }
  for (int i = 1; i <= 5; ++i) {
    s.counts[i] = U(c.items()[i - 1]);
    s.archived[i] = U(a.items()[i - 1]);
  }
  s.next_continuous = Num(v.items()[3]);
  return s;
}

std::string EncodeUnit(const UnitRecord& r) {
  std::string out;
  // Room for the fields and a small data item in one allocation (growing the string as the
  // data is appended cost more than encoding it).
  out.reserve(256);
  PutRecordHead(13, &out);
  out.push_back(static_cast<char>(r.key_is_text ? 0xf5 : 0xf4));
  PutUInt(static_cast<uint64_t>(r.status), &out);
  PutDouble(r.priority, &out);
  EncodeCbor(r.data, &out);
  EncodeCbor(r.worker_id, &out);
  PutOptDouble(r.expiration, &out);
  PutDouble(r.not_before, &out);
  PutUInt(r.attempts, &out);
  PutUInt(r.expiries, &out);
  PutUInt(r.blockers, &out);
  // 0 (not AVAILABLE, not PENDING) takes one byte instead of nine.
  for (double t : {r.available_since, r.lease_start}) {
    if (t == 0) {
      PutUInt(0, &out);
    } else {
      PutDouble(t, &out);
    }
  }
  return out;
}
namespace {

// Reads the layout EncodeUnit writes, field by field, without a Value per field. Returns false
// (and DecodeUnit takes the general path, which gives the same result or the precise error) for
// anything else: another element count, a field in another CBOR form, trailing bytes.
class UnitReader {
 public:
  UnitReader(std::string_view b, UnitData data)
      : p_(reinterpret_cast<const uint8_t*>(b.data())), end_(p_ + b.size()), data_(data) {}

  bool Read(UnitRecord* r) {
    // DecodeCbor's byte limit is on the whole record: past it, the general path has the error.
    if (p_ == end_ || static_cast<size_t>(end_ - p_) > DecodeLimits{}.max_bytes) return false;
    const uint8_t head = *p_++;
    if (head < 0x8a || head > 0x8d) return false;  // arrays of 10 to 13 elements
    const size_t n = head - 0x80;
    uint64_t version, status;
    if (!UInt(&version) || version != kRecordVersion) return false;
    if (p_ == end_ || (*p_ != 0xf4 && *p_ != 0xf5)) return false;
    r->key_is_text = *p_++ == 0xf5;
    if (!UInt(&status) || status < kAvailable || status > kFailed) return false;
    r->status = static_cast<int>(status);
    uint64_t attempts, expiries, blockers = 0;
    if (!Double(&r->priority) || !Data(&r->data) || !Item(&r->worker_id, kOneItem) ||
        !OptDouble(&r->expiration) || !Double(&r->not_before) || !UInt(&attempts) ||
        !UInt(&expiries) || (n > 10 && !UInt(&blockers)) ||
        (n > 11 && !ZeroOrDouble(&r->available_since)) ||
        (n > 12 && !ZeroOrDouble(&r->lease_start))) {
      return false;
    }
    if (attempts > UINT32_MAX || expiries > UINT32_MAX || blockers > UINT32_MAX) return false;
    r->attempts = static_cast<uint32_t>(attempts);
    r->expiries = static_cast<uint32_t>(expiries);
    r->blockers = static_cast<uint32_t>(blockers);
    return p_ == end_;
  }

 private:
  // What is left of DecodeCbor's default limits for the data inside the record: one level of
  // nesting less, and the record's own items (the array, its 13 fields) fewer. worker_id is
  // one item, so data and worker_id together stay within what DecodeCbor would accept.
  static constexpr DecodeLimits kDataLimits{DecodeLimits{}.max_bytes, DecodeLimits{}.max_depth - 1,
                                            DecodeLimits{}.max_items - 14};
  static constexpr DecodeLimits kOneItem{DecodeLimits{}.max_bytes, 1, 1};  // worker_id

  bool UInt(uint64_t* v) {  // major type 0, any argument width
    if (p_ == end_ || (*p_ >> 5) != 0) return false;
    const size_t len = ReadHeadArgument(p_, static_cast<size_t>(end_ - p_), v);
    p_ += len;
    return len > 0;
  }
  bool Double(double* d) {  // fb + 8 bytes, as PutDouble writes every double
    if (end_ - p_ < 9 || *p_ != 0xfb) return false;
    const uint64_t bits = GetU64(std::string_view(reinterpret_cast<const char*>(p_ + 1), 8));
    std::memcpy(d, &bits, sizeof bits);
    p_ += 9;
    return true;
  }
  bool OptDouble(std::optional<double>* d) {
    if (p_ != end_ && *p_ == 0xf6) {
      ++p_;
      d->reset();
      return true;
    }
    double v;
    if (!Double(&v)) return false;
    *d = v;
    return true;
  }
  bool ZeroOrDouble(double* d) {
    if (p_ != end_ && *p_ == 0x00) {
      ++p_;
      *d = 0;
      return true;
    }
    return Double(d);
  }
  bool Item(Value* v, const DecodeLimits& limits) {
    size_t used = 0;
    if (!DecodeDirect(p_, static_cast<size_t>(end_ - p_), limits, v, &used)) return false;
    p_ += used;
    return true;
  }

  // The data, decoded or (kMayKeep) kept as its bytes after the checks decoding would make.
  bool Data(Value* v) {
    if (data_ == UnitData::kDecoded) return Item(v, kDataLimits);
    size_t used = 0;
    if (!SkipDirect(p_, static_cast<size_t>(end_ - p_), kDataLimits, &used)) return false;
    *v = Value::Encoded(std::string(reinterpret_cast<const char*>(p_), used));
    p_ += used;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  const UnitData data_;
};

}  // namespace

StatusOr<UnitRecord> DecodeUnit(std::string_view bytes, UnitData data) {
  UnitRecord fast;
  if (UnitReader(bytes, data).Read(&fast)) return fast;
  return DecodeUnitGeneral(bytes);
}

StatusOr<UnitRecord> DecodeUnitGeneral(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 10, "unit"));
  auto& it = v.mutable_items();
  UnitRecord r;
  r.key_is_text = it[1].is_bool() && it[1].as_bool();
  if (U(it[2]) < kAvailable || U(it[2]) > kFailed) {
    return Status::Corruption("unit record has a bad status");
  }
  r.status = static_cast<int>(U(it[2]));
  r.priority = Num(it[3]);
  r.data = std::move(it[4]);
  r.worker_id = std::move(it[5]);
  r.expiration = OptNum(it[6]);
  r.not_before = Num(it[7]);
  r.attempts = static_cast<uint32_t>(U(it[8]));
  r.expiries = static_cast<uint32_t>(U(it[9]));
  if (it.size() > 10) r.blockers = static_cast<uint32_t>(U(it[10]));
  if (it.size() > 11) r.available_since = Num(it[11]);
  if (it.size() > 12) r.lease_start = Num(it[12]);
  return r;
}

AttemptRecord OpenAttempt(const UnitRecord& unit) {
  AttemptRecord a;
  a.worker_id = unit.worker_id;
  a.start = unit.lease_start;
  a.expires = unit.expiration.value_or(unit.lease_start);
  return a;
}

AttemptRecord EndedAttempt(const UnitRecord& unit, std::string_view outcome, double now) {
  AttemptRecord a = OpenAttempt(unit);
  a.end = now;
  a.status = outcome;
  return a;
}

std::string EncodeAttempt(const AttemptRecord& r) {
  std::string out;
  out.reserve(48);
  PutRecordHead(6, &out);
  EncodeCbor(r.worker_id, &out);
  PutDouble(r.start, &out);
  PutDouble(r.expires, &out);
  PutOptDouble(r.end, &out);
  EncodeHead(3, r.status.size(), &out);  // text
  out.append(r.status);
  return out;
}
StatusOr<AttemptRecord> DecodeAttempt(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 6, "attempt"));
  auto& it = v.mutable_items();
  AttemptRecord r;
  r.worker_id = std::move(it[1]);
  r.start = Num(it[2]);
  r.expires = Num(it[3]);
  r.end = OptNum(it[4]);
  if (!it[5].is_string()) return Status::Corruption("attempt record has a bad status");
  r.status = it[5].str();
  return r;
}

std::string EncodeLock(const LockRecord& r) {
  return EncodeCbor(
      Value::Array({Value::UInt(kRecordVersion), r.owner, Value::Double(r.deadline), r.path}));
}
StatusOr<LockRecord> DecodeLock(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 4, "lock"));
  auto& it = v.mutable_items();
  LockRecord r;
  r.owner = std::move(it[1]);
  r.deadline = Num(it[2]);
  r.path = std::move(it[3]);
  return r;
}

std::string EncodeWorker(const WorkerRecord& r) {
  return EncodeCbor(Value::Array({Value::UInt(kRecordVersion), r.id, r.mode, r.data, r.parent,
                                  Value::Double(r.last_heard), Value::Double(r.expires)}));
}
StatusOr<WorkerRecord> DecodeWorker(std::string_view bytes) {
  COORD_ASSIGN_OR_RETURN(Value v, Open(bytes, 7, "worker"));
  auto& it = v.mutable_items();
  WorkerRecord r;
  r.id = std::move(it[1]);
  r.mode = std::move(it[2]);
  r.data = std::move(it[3]);
  r.parent = std::move(it[4]);
  r.last_heard = Num(it[5]);
  r.expires = Num(it[6]);
  return r;
}

}  // namespace coordinated::storage
