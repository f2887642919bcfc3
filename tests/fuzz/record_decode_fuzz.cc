// libFuzzer target for the stored-record decoders (src/storage/records.h) and the key
// decoders (src/storage/keys.h): what start-up, repair and every read do with bytes that come
// back from RocksDB, which may be damaged.
//
// The whole input is handed to every Decode* function. Errors are fine; a record that decodes
// must re-encode to bytes that decode again and re-encode to the same bytes (the encoding of a
// decoded record is a fixed point), and a unit record read with its data kept as bytes must
// equal the one read with it decoded. Every input goes through DecodeIndexKey and
// DecodeStatusIndexKey: a key long enough for the layout (12 bytes, 13 with the status byte)
// must decode as valid into parts that reassemble it, a shorter one as invalid; every input
// goes through DecodeUnitRef, which must
// either refuse it or return a reference UnitRef rebuilds byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "fuzz_util.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace {

namespace storage = coordinated::storage;
using coordfuzz::FuzzDie;

constexpr const char* kTarget = "record_decode_fuzz";

// Decode(bytes) ok => Encode(Decode(Encode(Decode(bytes)))) == Encode(Decode(bytes)).
template <typename Decode, typename Encode>
void CheckRecord(std::string_view bytes, Decode decode, Encode encode, const char* what) {
  auto first = decode(bytes);
  if (!first.ok()) return;
  const std::string enc = encode(*first);
  auto second = decode(enc);
  if (!second.ok()) FuzzDie(kTarget, what);
  if (encode(*second) != enc) FuzzDie(kTarget, what);
}

void CheckKeys(std::string_view k) {
  storage::SpecId spec = 0;
  std::string_view unit_key;
  const size_t n = storage::DecodeUnitRef(k, &spec, &unit_key);
  if (n != 0) {
    if (n > k.size()) FuzzDie(kTarget, "DecodeUnitRef: length beyond the input");
    if (storage::keys::UnitRef(spec, unit_key) != k.substr(0, n)) {
      FuzzDie(kTarget, "DecodeUnitRef: UnitRef does not rebuild the reference");
    }
  }
  if (k.size() < 12 && storage::DecodeIndexKey(k).valid) {
    FuzzDie(kTarget, "DecodeIndexKey: a short key decoded as valid");
  }
  if (k.size() < 13) {
    int status = 0;
    if (storage::DecodeStatusIndexKey(k, &status).valid || status != -1) {
      FuzzDie(kTarget, "DecodeStatusIndexKey: a short key decoded as valid");
    }
  }
  if (k.size() >= 12) {
    const storage::DecodedIndexKey d = storage::DecodeIndexKey(k);
    if (!d.valid) FuzzDie(kTarget, "DecodeIndexKey: a full-length key decoded as invalid");
    std::string rebuilt;
    storage::PutU32(&rebuilt, d.spec);
    storage::PutU64(&rebuilt, d.number);
    rebuilt.append(d.unit_key);
    if (rebuilt != k) FuzzDie(kTarget, "DecodeIndexKey: parts do not rebuild the key");
  }
  if (k.size() >= 13) {
    int status = -1;
    const storage::DecodedIndexKey d = storage::DecodeStatusIndexKey(k, &status);
    if (!d.valid) FuzzDie(kTarget, "DecodeStatusIndexKey: a full-length key decoded as invalid");
    if (status < 0 || status > 255) FuzzDie(kTarget, "DecodeStatusIndexKey: status not a byte");
    std::string rebuilt;
    storage::PutU32(&rebuilt, d.spec);
    rebuilt.push_back(static_cast<char>(status));
    storage::PutU64(&rebuilt, d.number);
    rebuilt.append(d.unit_key);
    if (rebuilt != k) FuzzDie(kTarget, "DecodeStatusIndexKey: parts do not rebuild the key");
  }
}

// Reading a unit with its data kept as bytes accepts exactly what decoding accepts, and gives
// the same record: the same fields and data that decodes to the same value.
void CheckUnitKeepingData(std::string_view bytes) {
  auto decoded = storage::DecodeUnit(bytes);
  auto kept = storage::DecodeUnit(bytes, storage::UnitData::kMayKeep);
  if (decoded.ok() != kept.ok())
    FuzzDie(kTarget, "DecodeUnit: keeping the data changed the answer");
  if (!decoded.ok()) return;
  if (decoded->data.is_encoded()) FuzzDie(kTarget, "DecodeUnit: data kept without leave");
  if (!(kept->data == decoded->data)) FuzzDie(kTarget, "DecodeUnit: kept data decodes otherwise");
  // The kept bytes are the data as stored (a half float stays half): decoded again, the record
  // encodes as the decoded one does.
  auto again = storage::DecodeUnit(storage::EncodeUnit(*kept));
  if (!again.ok() || storage::EncodeUnit(*again) != storage::EncodeUnit(*decoded)) {
    FuzzDie(kTarget, "DecodeUnit: the record with kept data encodes otherwise");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = coordfuzz::AsView(data, size);
  CheckRecord(bytes, storage::DecodeSpec, storage::EncodeSpec, "spec record not a fixed point");
  CheckRecord(bytes, storage::DecodeStats, storage::EncodeStats, "stats record not a fixed point");
  CheckRecord(
      bytes, [](std::string_view b) { return storage::DecodeUnit(b); }, storage::EncodeUnit,
      "unit record not a fixed point");
  CheckUnitKeepingData(bytes);
  CheckRecord(bytes, storage::DecodeAttempt, storage::EncodeAttempt,
              "attempt record not a fixed point");
  CheckRecord(bytes, storage::DecodeLock, storage::EncodeLock, "lock record not a fixed point");
  CheckRecord(bytes, storage::DecodeWorker, storage::EncodeWorker,
              "worker record not a fixed point");
  CheckKeys(bytes);
  return 0;
}
