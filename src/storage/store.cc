#include "storage/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "storage/info_log.h"
#include "storage/keys.h"
#include "storage/memtable_rep.h"
#include "storage/migrations.h"

namespace coordinated::storage {

namespace {
// The memtable insert-hint prefix of a column family (CfInfo::hint_prefix, HintPrefixLength).
// Only keys longer than their prefix are in the domain; range deletions begin at keys no longer
// than that (Store::Write checks), so they never touch a hint.
class HintPrefix : public rocksdb::SliceTransform {
 public:
  explicit HintPrefix(uint8_t hint) : hint_(hint) {}
  const char* Name() const override { return "coordinated.HintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(),
                          HintPrefixLength(hint_, std::string_view(key.data(), key.size())));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return HintPrefixLength(hint_, std::string_view(key.data(), key.size())) > 0;
  }

 private:
  uint8_t hint_;
};

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string m(what);
  m += ": ";
  m += s.ToString();
  if (s.IsNotFound()) return Status::NotFound(m);
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
  if (s.IsNoSpace()) return Status::ResourceExhausted(m);
  return Status::IOError(m);
}
rocksdb::Slice S(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }
// How long Sync waits for RocksDB to recover from running out of space (see Sync).
constexpr std::chrono::seconds kNoSpaceRecoveryWait{15};
}  // namespace

// ---------------------------------------------------------------------------------------------

struct Store::Rep {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by CfIndex
  bool direct_batches = false;  // see WriteBatch::Rep and BatchAccess::DirectBatchesMatch
  rocksdb::ColumnFamilyHandle* h(Cf cf) const { return handles[CfIndex(cf)]; }
  ~Rep() {
    if (db) {
      for (auto* handle : handles) {
        if (handle) db->DestroyColumnFamilyHandle(handle);
      }
      db->Close();
    }
  }
};

struct WriteBatch::Rep {
  // The operations are recorded twice, cheaply: `bytes` is already a RocksDB write batch in the
  // library's own persistent format (the write-ahead log's record format: a 12-byte header of
  // sequence number and count, then per operation a type tag, the family id unless it is the
  // default family, and length-prefixed key and value), with each family's table index as its
  // id; `ops` locates each operation's key and value in it. Store::Write hands `bytes` to
  // RocksDB as it is when the store's family ids are their table indexes and the library
  // encodes a sample batch byte for byte the same way (both checked when the store opens);
  // otherwise it replays `ops` through the library's API. Recording an operation allocates
  // nothing once the buffer and the vector have grown to the batch's size.
  struct Op {
    enum Kind : uint8_t { kPut, kDelete, kDeleteRange } kind;
    Cf cf;
    bool read_soon;
    uint32_t a_len, b_len;
    size_t a_offset, b_offset;  // in bytes
  };
  static constexpr size_t kHeader = 12;  // sequence (8 bytes), count (4)
  std::vector<Op> ops;
  std::string bytes = std::string(kHeader, '\0');

  // RocksDB's record type tags (db/dbformat.h), for the default family and for the others.
  static constexpr char kTag[3][2] = {{0x1, 0x5}, {0x0, 0x4}, {0xF, 0xE}};
  static void PutVarint32(std::string* out, uint32_t v) {
    char buf[5];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out->append(buf, n);
  }
  void Add(Op::Kind kind, Cf cf, std::string_view a, std::string_view b, bool read_soon = false) {
    const uint32_t id = static_cast<uint32_t>(CfIndex(cf));
    bytes.push_back(kTag[kind][id == 0 ? 0 : 1]);
    if (id != 0) PutVarint32(&bytes, id);
    PutVarint32(&bytes, static_cast<uint32_t>(a.size()));
    const size_t a_offset = bytes.size();
    bytes.append(a);
    size_t b_offset = bytes.size();
    if (kind != Op::kDelete) {
      PutVarint32(&bytes, static_cast<uint32_t>(b.size()));
      b_offset = bytes.size();
      bytes.append(b);
    }
    ops.push_back({kind, cf, read_soon, static_cast<uint32_t>(a.size()),
                   static_cast<uint32_t>(b.size()), a_offset, b_offset});
  }
  // `bytes` with the header's count filled in.
  const std::string& Encoded() {
    const auto n = static_cast<uint32_t>(ops.size());
    for (int i = 0; i < 4; ++i) bytes[8 + i] = static_cast<char>(n >> (8 * i));  // little endian
    return bytes;
  }
  std::string_view a(const Op& op) const { return {bytes.data() + op.a_offset, op.a_len}; }
  std::string_view b(const Op& op) const { return {bytes.data() + op.b_offset, op.b_len}; }
};

WriteBatch::WriteBatch() : rep_(std::make_unique<Rep>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
void WriteBatch::Put(Cf cf, std::string_view key, std::string_view value, bool read_soon) {
  rep_->Add(Rep::Op::kPut, cf, key, value, read_soon);
}
void WriteBatch::Delete(Cf cf, std::string_view key) { rep_->Add(Rep::Op::kDelete, cf, key, {}); }
void WriteBatch::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  rep_->Add(Rep::Op::kDeleteRange, cf, begin, end);
}
size_t WriteBatch::Count() const { return rep_->ops.size(); }
void WriteBatch::Clear() {
  rep_->ops.clear();
  rep_->bytes.resize(Rep::kHeader);
}

// The two ways a WriteBatch reaches RocksDB, and the check that picks one (WriteBatch::Rep).
struct BatchAccess {
  // Through the library's API: for stores whose family ids are not their table indexes.
  static Status EncodeThroughLibrary(const WriteBatch::Rep& rep,
                                     const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                     rocksdb::WriteBatch* wb);
  // True when WriteBatch's own encoding may be handed to RocksDB: every family's id is its
  // table index, and a sample batch touching the default family and others (puts, deletes and
  // range deletions, lengths past one varint byte) comes out byte for byte as the library
  // encodes it.
  static bool DirectBatchesMatch(const std::vector<rocksdb::ColumnFamilyHandle*>& handles);
};

Status BatchAccess::EncodeThroughLibrary(const WriteBatch::Rep& rep,
                                         const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                         rocksdb::WriteBatch* wb) {
  for (const auto& op : rep.ops) {
    auto* h = handles[CfIndex(op.cf)];
    rocksdb::Status s;
    switch (op.kind) {
      case WriteBatch::Rep::Op::kPut:
        s = wb->Put(h, S(rep.a(op)), S(rep.b(op)));
        break;
      case WriteBatch::Rep::Op::kDelete:
        s = wb->Delete(h, S(rep.a(op)));
        break;
      case WriteBatch::Rep::Op::kDeleteRange:
        s = wb->DeleteRange(h, S(rep.a(op)), S(rep.b(op)));
        break;
    }
    if (!s.ok()) return FromRocks(s, "batch");
  }
  return Status::Ok();
}

bool BatchAccess::DirectBatchesMatch(const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  for (size_t i = 0; i < handles.size(); ++i) {
    if (!handles[i] || handles[i]->GetID() != i) return false;
  }
  WriteBatch sample;
  const std::string long_value(300, 'v');
  sample.Put(Cf::kMeta, "m", long_value);
  sample.Delete(Cf::kMeta, "m2");
  sample.DeleteRange(Cf::kMeta, "a", "b");
  sample.Put(Cf::kWaiting, "k", "");
  sample.Delete(Cf::kUnits, std::string(200, 'k'));
  sample.DeleteRange(Cf::kAttempts, "c", "d");
  rocksdb::WriteBatch library;
  if (!EncodeThroughLibrary(*sample.rep_, handles, &library).ok()) return false;
  return library.Data() == sample.rep_->Encoded();
}

// ---------------------------------------------------------------------------------------------

namespace {
class RocksIterator : public Iterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h, std::string_view lower,
                std::string_view upper)
      : lower_(lower), upper_(upper) {
    rocksdb::ReadOptions ro;
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    if (!lower_.empty()) {
      lower_slice_ = rocksdb::Slice(lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    it_.reset(db->NewIterator(ro, h));
  }
  void Seek(std::string_view key) override { it_->Seek(S(key)); }
  void SeekToFirst() override {
    if (lower_.empty()) {
      it_->SeekToFirst();
    } else {
      it_->Seek(lower_slice_);
    }
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    auto k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    auto v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override { return FromRocks(it_->status(), "iterator"); }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};
}  // namespace

Store::Store(StoreOptions options)
    : options_(std::move(options)),
      rep_(std::make_unique<Rep>()),
      write_cache_(
          std::make_unique<WriteCache>(options_.read_only ? 0 : options_.write_cache_bytes)) {}
Store::~Store() = default;

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::unique_ptr<Store> store(new Store(options));
  rocksdb::DBOptions dbo;
  if (options.env) dbo.env = options.env;
  if (!options.read_only) dbo.info_log = NewInfoLog(options.path);  // see info_log.h
  dbo.create_if_missing = options.create_if_missing;
  dbo.create_missing_column_families = !options.read_only;
  dbo.max_background_jobs = 2;
  // Compactions run at the lowest CPU priority (nice 19; flushes, which writes can wait for,
  // keep the normal one). A bulk load leaves compaction debt that RocksDB pays off in the next
  // seconds or minutes: at the normal priority it took CPU from the state thread and the
  // network. With 10,000,000 units queued, right after the load (W=64 K=1): get_work p99
  // 7.2-7.8 ms and 12,600-13,100 cycles/s in two runs before, 4.7-6.7 ms and 12,800-15,900 in nine
  // runs at nice 19. Idle CPU is plenty for them: on two cores adding 10,000,000 units ran as
  // fast and the daemon used the same CPU. Under sustained full load the write stalls of RocksDB
  // (too many level-0 files) slow writers down until compaction catches up, as at any priority.
  if (!options.read_only) {
    (options.env ? options.env : rocksdb::Env::Default())
        ->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  }
  // One thread writes (the sequencer). Memtable insert hints (CfInfo::hint_prefix) only work
  // for writes that are not concurrent.
  dbo.allow_concurrent_memtable_write = false;
  dbo.keep_log_file_num = 5;
  // Restart time is dominated by replaying the write-ahead log: past 64 MiB of logs the
  // families that keep the oldest log alive are flushed, so a restart replays at most about
  // that much (the memtables are bounded to the same size by the write buffer manager).
  dbo.max_total_wal_size = 64ull << 20;
  // Memory is bounded by two figures, whatever the number of units or column families: one
  // block cache shared by every family (data, index and filter blocks all live in it) and one
  // budget for all memtables together (the write buffer manager flushes the largest memtable
  // when the sum would exceed it).
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  dbo.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(options.memtable_bytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Families that are only scanned get no filter (CfInfo::point_reads).
  std::shared_ptr<rocksdb::TableFactory> scanned_tables(rocksdb::NewBlockBasedTableFactory(table));
  // Unit lookups are point reads of keys that often do not exist (a new key in
  // add_work_units): a Bloom filter answers most of those without reading a block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::shared_ptr<rocksdb::TableFactory> looked_up_tables(
      rocksdb::NewBlockBasedTableFactory(table));
  const uint64_t write_buffer =
      std::max<uint64_t>(1ull << 20, std::min<uint64_t>(16ull << 20, options.memtable_bytes / 4));
  const std::shared_ptr<rocksdb::MemTableRepFactory> memtables = NewSkipListMemTableFactory();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& info : kColumnFamilies) {
    rocksdb::ColumnFamilyOptions co;
    co.OptimizeLevelStyleCompaction(64ull << 20);
    // The indexes: one compression for every level, the one that tuning picks for the deeper
    // levels (LZ4 where the library has it). RocksDB moves a file down a level without
    // rewriting it only when the two levels compress alike, and the tuning's uncompressed first
    // levels made every byte of these append-at-the-tail, delete-at-the-head families be
    // rewritten on its way down. The unit records keep the tuning: moved down unrewritten they
    // stayed in many small files, and with 10,000,000 queued units get_work ran at 12,000
    // instead of 16,600 cycles/s. Adding 2,000,000 units: +8% units/s either way.
    if (info.cf != Cf::kUnits) {
      std::fill(co.compression_per_level.begin(), co.compression_per_level.end(),
                co.compression_per_level.back());
    }
    co.table_factory = info.point_reads ? looked_up_tables : scanned_tables;
    co.write_buffer_size = write_buffer;
    co.max_write_buffer_number = 3;
    co.memtable_factory = memtables;  // memtable_rep.h says why not the library's skip list
    if (info.hint_prefix > 0) {
      co.memtable_insert_with_hint_prefix_extractor =
          std::make_shared<HintPrefix>(info.hint_prefix);
    }
    if (info.cf == Cf::kUnits) {
      // Point reads of units (most of them misses while adding work) are answered by a Bloom
      // filter over each memtable instead of a skip-list search: about 12% less daemon CPU per
      // unit added. (Attempts are written as leases end and read only to list them.)
      co.memtable_prefix_bloom_size_ratio = 0.02;
      co.memtable_whole_key_filtering = true;
    }
    // Queue-like column families delete at their head all the time: compact files whose
    // deletions pile up, so seeks do not wade through tombstones.
    co.table_properties_collector_factories.emplace_back(
        rocksdb::NewCompactOnDeletionCollectorFactory(128 * 1024, 32 * 1024, 0.5));
    cfs.emplace_back(std::string(info.name), co);
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    // Open only the column families the store has (an older store may lack newer, empty ones);
    // missing ones read as empty.
    std::vector<std::string> existing;
    s = rocksdb::DB::ListColumnFamilies(dbo, options.path, &existing);
    if (!s.ok()) return FromRocks(s, "cannot open store at " + options.path);
    std::vector<rocksdb::ColumnFamilyDescriptor> present;
    std::vector<size_t> index;
    for (size_t i = 0; i < cfs.size(); ++i) {
      if (std::find(existing.begin(), existing.end(), cfs[i].name) != existing.end()) {
        present.push_back(cfs[i]);
        index.push_back(i);
      }
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::OpenForReadOnly(dbo, options.path, present, &handles, &db);
    if (s.ok()) {
      store->rep_->handles.assign(cfs.size(), nullptr);
      for (size_t i = 0; i < index.size(); ++i) store->rep_->handles[index[i]] = handles[i];
    }
  } else {
    s = rocksdb::DB::Open(dbo, options.path, cfs, &store->rep_->handles, &db);
  }
  if (!s.ok()) return FromRocks(s, "cannot open store at " + options.path);
  store->rep_->db.reset(db);
  store->rep_->direct_batches =
      !options.library_batches && BatchAccess::DirectBatchesMatch(store->rep_->handles);
  if (!options.read_only) {
    COORD_RETURN_IF_ERROR(RunMigrations(store.get()));
    COORD_RETURN_IF_ERROR(store->Sync());
  } else {
    COORD_RETURN_IF_ERROR(CheckFormatVersion(store.get()));
  }
  return store;
}

Status Store::Get(Cf cf, std::string_view key, std::string* value) const {
  if (!rep_->h(cf)) return Status::NotFound("key not found");
  if (kColumnFamilies[CfIndex(cf)].cache_writes && write_cache_->Get(cf, key, value)) {
    return Status::Ok();
  }
  auto s = rep_->db->Get(rocksdb::ReadOptions(), rep_->h(cf), S(key), value);
  if (s.IsNotFound()) return Status::NotFound("key not found");
  return FromRocks(s, "get");
}

Status Store::MultiGet(Cf cf, const std::vector<std::string>& keys,
                       std::vector<std::optional<std::string>>* values) const {
  values->assign(keys.size(), std::nullopt);
  if (!rep_->h(cf) || keys.empty()) return Status::Ok();
  // RocksDB wants the keys in order and otherwise sorts them itself through its comparator
  // objects; keys mostly arrive in order already (a batch of new units), so checking and
  // sorting here, on plain bytes, is cheaper.
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) order[i] = i;
  auto by_key = [&keys](size_t a, size_t b) {
    return std::string_view(keys[a]) < std::string_view(keys[b]);
  };
  if (!std::is_sorted(order.begin(), order.end(), by_key)) {
    std::sort(order.begin(), order.end(), by_key);
  }
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (size_t i : order) slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rep_->db->MultiGet(rocksdb::ReadOptions(), rep_->h(cf), keys.size(), slices.data(), found.data(),
                     statuses.data(), /*sorted_input=*/true);
  for (size_t j = 0; j < keys.size(); ++j) {
    if (statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return FromRocks(statuses[j], "multi-get");
    (*values)[order[j]].emplace(found[j].data(), found[j].size());
  }
  return Status::Ok();
}

namespace {
class EmptyIterator : public Iterator {
 public:
  void Seek(std::string_view) override {}
  void SeekToFirst() override {}
  bool Valid() const override { return false; }
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return Status::Ok(); }
};
}  // namespace

std::unique_ptr<Iterator> Store::NewIterator(Cf cf, std::string_view lower,
                                             std::string_view upper) const {
  if (!rep_->h(cf)) return std::make_unique<EmptyIterator>();
  return std::make_unique<RocksIterator>(rep_->db.get(), rep_->h(cf), lower, upper);
}

Status Store::Write(WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  // RocksDB refuses an empty or inverted range only after applying earlier operations of the
  // batch: check first, so an error always means nothing was applied.
  WriteBatch::Rep& rep = *batch.rep_;
  for (const auto& op : rep.ops) {
    if (op.kind == WriteBatch::Rep::Op::kDeleteRange && !(rep.a(op) < rep.b(op))) {
      return Status::InvalidArgument("delete range with an end not after its start");
    }
    if (op.kind == WriteBatch::Rep::Op::kDeleteRange &&
        HintPrefixLength(kColumnFamilies[CfIndex(op.cf)].hint_prefix, rep.a(op)) > 0) {
      // See CfInfo::hint_prefix: such a range would share an insert hint with point entries.
      return Status::InvalidArgument("delete range in " + std::string(CfName(op.cf)) +
                                     " must begin at a key no longer than its insert-hint prefix");
    }
    if (!rep_->h(op.cf)) return Status::FailedPrecondition("column family missing (read-only)");
  }
  rocksdb::WriteBatch wb =
      rep_->direct_batches ? rocksdb::WriteBatch(rep.Encoded()) : rocksdb::WriteBatch();
  if (!rep_->direct_batches) {
    COORD_RETURN_IF_ERROR(BatchAccess::EncodeThroughLibrary(rep, rep_->handles, &wb));
  }
  if (faulty_.load()) {
    std::lock_guard<std::mutex> lock(fault_mu_);
    if (no_space_) {
      // RocksDB stopped writing when it ran out of space. Resume() succeeds once it has
      // recovered on its own (it polls free space) or recovers now; Busy: its recovery waits.
      auto r = rep_->db->Resume();
      if (!r.ok()) {
        return Status::ResourceExhausted(
            "out of disk space, writes stopped until space is freed (" + r.ToString() + ")");
      }
      no_space_ = false;
      faulty_.store(!failed_.ok());
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = false;
  auto s = rep_->db->Write(wo, &wb);
  if (!s.ok()) {
    if (s.IsNoSpace() || s.IsIOError() || s.IsCorruption()) {
      std::lock_guard<std::mutex> lock(fault_mu_);
      if (s.IsNoSpace()) {
        no_space_ = true;
      } else if (failed_.ok()) {
        failed_ = FromRocks(s, "write to the write-ahead log failed");
      }
      faulty_.store(true);
    }
    write_cache_->Clear();  // whatever RocksDB applied before failing, the cache forgets
    return FromRocks(s, "write");
  }
  dirty_.store(true);  // after the write: a Sync that sees it covers the write
  writes_.fetch_add(1, std::memory_order_relaxed);
  if (write_cache_->enabled()) {
    for (const auto& op : rep.ops) {
      if (!kColumnFamilies[CfIndex(op.cf)].cache_writes) continue;
      switch (op.kind) {
        case WriteBatch::Rep::Op::kPut:
          if (op.read_soon) {
            write_cache_->Put(op.cf, rep.a(op), rep.b(op));
          } else {
            write_cache_->Erase(op.cf, rep.a(op));
          }
          break;
        case WriteBatch::Rep::Op::kDelete:
          write_cache_->Erase(op.cf, rep.a(op));
          break;
        case WriteBatch::Rep::Op::kDeleteRange:
          write_cache_->EraseRange(op.cf, rep.a(op), rep.b(op));
          break;
      }
    }
  }
  return Status::Ok();
}

Status Store::Sync() {
  // Held through this sync only when a write has failed (the slow path).
  std::unique_lock<std::mutex> fault_lock(fault_mu_, std::defer_lock);
  if (faulty_.load()) {
    fault_lock.lock();
    if (!failed_.ok()) return failed_;
  }
  // Cleared before the sync: a write that lands during it marks the store dirty again (it may
  // or may not be covered by this sync; the next one covers it for sure).
  if (!dirty_.exchange(false) || !options_.sync) return Status::Ok();
  if (fault_lock.owns_lock() && no_space_) {
    // An append to the write-ahead log failed for lack of space after earlier writes of this
    // group succeeded. That log must not be synced again (RocksDB refuses: the writer has seen
    // an error); recovery flushes everything written so far into synced table files and starts
    // a new log. Wait a bounded time for it (RocksDB retries every few seconds once space is
    // back); without it nothing more can be acknowledged.
    const auto deadline = std::chrono::steady_clock::now() + kNoSpaceRecoveryWait;
    rocksdb::Status r = rep_->db->Resume();
    while (r.IsBusy() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r = rep_->db->Resume();
    }
    if (!r.ok()) return FromRocks(r, "cannot make writes durable after running out of space");
    no_space_ = false;
    faulty_.store(false);
  }
  const auto start = std::chrono::steady_clock::now();
  auto s = rep_->db->SyncWAL();
  if (!s.ok()) {
    if (!fault_lock.owns_lock()) fault_lock.lock();
    failed_ = FromRocks(s, "sync of the write-ahead log failed");
    faulty_.store(true);
    return failed_;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sync_seconds_.store(sync_seconds_.load() + secs);
  if (secs > max_sync_seconds_.load()) max_sync_seconds_.store(secs);
  ++syncs_;
  return Status::Ok();
}

Status Store::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* cp = nullptr;
  auto s = rocksdb::Checkpoint::Create(rep_->db.get(), &cp);
  if (!s.ok()) return FromRocks(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> owner(cp);
  return FromRocks(cp->CreateCheckpoint(dir), "checkpoint to " + dir);
}

uint64_t Store::ApproximateSize() const {
  uint64_t total = 0, v = 0;
  for (auto* h : rep_->handles) {
    if (h && rep_->db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) total += v;
  }
  return total;
}

bool Store::direct_batches() const { return rep_->direct_batches; }

StatusOr<int> Store::FlushMemtables(uint64_t min_entries, bool wait) {
  if (options_.read_only || faulty_.load()) return 0;
  std::vector<rocksdb::ColumnFamilyHandle*> full;
  uint64_t total = 0;
  for (auto* h : rep_->handles) {
    uint64_t entries = 0;
    if (h && rep_->db->GetIntProperty(h, "rocksdb.num-entries-active-mem-table", &entries) &&
        entries > 0) {
      total += entries;
      full.push_back(h);
    }
  }
  if (full.empty() || total < min_entries) return 0;
  rocksdb::FlushOptions fo;
  fo.wait = wait;
  fo.allow_write_stall = true;  // never wait for room: this flush makes room
  auto s = rep_->db->Flush(fo, full);
  if (!s.ok()) return FromRocks(s, "flush");
  return static_cast<int>(full.size());
}

}  // namespace coordinated::storage
