#include "storage/memtable_rep.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace coordinated::storage {
namespace {

using Comparator = rocksdb::MemTableRep::KeyComparator;

constexpr int kMaxHeight = 12;
constexpr uint32_t kBranching = 4;

// A node is its links followed by the encoded entry: level i's link is at (&next0 - i), so a
// node of height h starts h - 1 links before the Node pointer. Until the node is linked in,
// next0 holds its height (set by Allocate, read by Insert).
struct Node {
  std::atomic<Node*> next0;

  std::atomic<Node*>* Link(int level) { return &next0 - level; }
  const char* Key() const { return reinterpret_cast<const char*>(&next0 + 1); }
  Node* Next(int level) { return Link(level)->load(std::memory_order_acquire); }
  void SetNext(int level, Node* x) { Link(level)->store(x, std::memory_order_release); }
  void SetNextRelaxed(int level, Node* x) { Link(level)->store(x, std::memory_order_relaxed); }
};

// Where the last insert with the same hint went: for each level the nodes it went between.
// Valid for levels below `height` (prev[height] is the head and next[height] null).
struct Splice {
  int height;
  Node* prev[kMaxHeight + 1];
  Node* next[kMaxHeight + 1];
};

// Iterators RocksDB places in its own arenas only get their destructor run, in place; their
// memory is kept for reuse by the thread that destroyed them (that thread's next iterator can
// only come after the destructor has returned, so no memory is reused while still in use). At
// most kKeptPerThread blocks are kept per thread; at thread exit they are freed (and a block
// given back after that, by an iterator destroyed during the thread's exit, is leaked).
constexpr size_t kKeptPerThread = 64;
std::vector<void*>* const kThreadGone = reinterpret_cast<std::vector<void*>*>(uintptr_t{1});
thread_local std::vector<void*>* tl_kept = nullptr;  // trivially destructible on purpose
struct KeptOwner {
  ~KeptOwner() {
    if (tl_kept != nullptr && tl_kept != kThreadGone) {
      for (void* p : *tl_kept) ::operator delete(p);
      delete tl_kept;
    }
    tl_kept = kThreadGone;
  }
};
thread_local KeptOwner tl_kept_owner;

void* TakeIteratorMemory(size_t size) {
  if (tl_kept != nullptr && tl_kept != kThreadGone && !tl_kept->empty()) {
    void* p = tl_kept->back();
    tl_kept->pop_back();
    return p;
  }
  return ::operator new(size);
}

void KeepIteratorMemory(void* p) {
  if (tl_kept == kThreadGone) return;
  if (tl_kept == nullptr) {
    (void)&tl_kept_owner;  // its destructor frees what this thread keeps
    tl_kept = new std::vector<void*>;
  }
  if (tl_kept->size() >= kKeptPerThread) {
    ::operator delete(tl_kept->front());  // another block: `p` is still being destroyed
    tl_kept->front() = p;
    return;
  }
  tl_kept->push_back(p);
}

// RocksDB's memtable entry: the internal key's length (varint32), the internal key (the user
// key, then 8 bytes little-endian: sequence number << 8 | value type), then the value.
const char* DecodeLength(const char* p, uint32_t* len) {
  uint32_t result = 0;
  for (uint32_t shift = 0; shift <= 28; shift += 7) {
    const uint32_t b = static_cast<unsigned char>(*p++);
    result |= (b & 127u) << shift;
    if (b < 128) break;
  }
  *len = result;
  return p;
}

uint64_t DecodeTag(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The order RocksDB's memtable key comparator gives entries of a family ordered by the bytewise
// comparator: user key ascending, then sequence number descending (the value type not
// compared). -2: not an entry this can read (an internal key shorter than its tag).
int CompareBytewiseEntries(const char* a, const char* b) {
  uint32_t alen = 0;
  uint32_t blen = 0;
  a = DecodeLength(a, &alen);
  b = DecodeLength(b, &blen);
  if (alen < 8 || blen < 8) return -2;
  const size_t au = alen - 8;
  const size_t bu = blen - 8;
  const int r = std::memcmp(a, b, std::min(au, bu));
  if (r != 0) return r < 0 ? -1 : 1;
  if (au != bu) return au < bu ? -1 : 1;
  const uint64_t as = DecodeTag(a + au) >> 8;
  const uint64_t bs = DecodeTag(b + bu) >> 8;
  if (as == bs) return 0;
  return as > bs ? -1 : 1;
}

// The memtable form (length-prefixed internal key) of a lookup key, or nullptr. LookupKey's
// definition is internal to RocksDB; it has always begun with three pointers: to that form, to
// the internal key inside it, and past its end (the layout LevelDB introduced). They are checked
// against each other, so a library laid out otherwise gets nullptr, not a wrong key.
const char* MemtableKey(const rocksdb::LookupKey& k) {
  const char* words[3] = {nullptr, nullptr, nullptr};
  std::memcpy(words, static_cast<const void*>(&k), sizeof words);
  if (words[0] == nullptr || words[1] <= words[0] || words[1] - words[0] > 5 ||
      words[2] < words[1]) {
    return nullptr;
  }
  uint32_t len = 0;
  if (DecodeLength(words[0], &len) != words[1] || static_cast<size_t>(words[2] - words[1]) != len) {
    return nullptr;
  }
  return words[0];
}

// True when `cmp` orders entries as CompareBytewiseEntries does, judged on entries whose user
// keys and sequence numbers cover every case the order distinguishes.
bool OrdersBytewise(const Comparator& cmp) {
  const std::string users[] = {std::string(), "a", std::string("a\0", 2), "ab", "b", "\xff"};
  std::vector<std::string> entries;
  for (const std::string& u : users) {
    for (uint64_t seq : {1ull, 7ull, 300ull}) {
      for (uint64_t type : {0ull, 1ull}) {  // a deletion and a value
        std::string e;
        e.push_back(static_cast<char>(u.size() + 8));
        e += u;
        const uint64_t tag = (seq << 8) | type;
        for (int i = 0; i < 8; ++i) e.push_back(static_cast<char>((tag >> (8 * i)) & 0xff));
        e.push_back('\0');  // an empty value
        entries.push_back(std::move(e));
      }
    }
  }
  auto sign = [](int v) { return (v > 0) - (v < 0); };
  for (const std::string& x : entries) {
    for (const std::string& y : entries) {
      if (sign(cmp(x.data(), y.data())) != CompareBytewiseEntries(x.data(), y.data())) {
        return false;
      }
    }
  }
  return true;
}

class SkipListRep : public rocksdb::MemTableRep {
 public:
  SkipListRep(const Comparator& cmp, rocksdb::Allocator* allocator)
      : MemTableRep(allocator), cmp_(cmp), bytewise_(OrdersBytewise(cmp)) {
    head_ = NewNode(kMaxHeight, 0);
    for (int i = 0; i < kMaxHeight; ++i) head_->SetNextRelaxed(i, nullptr);
    seq_splice_ = NewSplice();
  }

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    const int height = RandomHeight();
    Node* x = NewNode(height, len);
    x->next0.store(reinterpret_cast<Node*>(static_cast<intptr_t>(height)),
                   std::memory_order_relaxed);
    *buf = const_cast<char*>(x->Key());
    return x;
  }

  void Insert(rocksdb::KeyHandle handle) override { (void)InsertWith(handle, seq_splice_); }
  bool InsertKey(rocksdb::KeyHandle handle) override { return InsertWith(handle, seq_splice_); }
  void InsertWithHint(rocksdb::KeyHandle handle, void** hint) override {
    (void)InsertKeyWithHint(handle, hint);
  }
  bool InsertKeyWithHint(rocksdb::KeyHandle handle, void** hint) override {
    if (*hint == nullptr) *hint = NewSplice();
    return InsertWith(handle, static_cast<Splice*>(*hint));
  }
  // Concurrent inserts are never enabled (the store writes from one thread); should RocksDB
  // ever ask, they are refused loudly rather than raced.
  void InsertConcurrently(rocksdb::KeyHandle) override { std::abort(); }

  bool Contains(const char* key) const override {
    Node* x = FindGreaterOrEqual(key);
    return x != nullptr && Compare(key, x->Key()) == 0;
  }

  // Point lookups walk the list directly. (The library's default, taken only should the lookup
  // key not be readable, makes an iterator per call and never frees it.)
  void Get(const rocksdb::LookupKey& k, void* callback_args,
           bool (*callback_func)(void* arg, const char* entry)) override {
    const char* key = MemtableKey(k);
    if (key == nullptr) {
      MemTableRep::Get(k, callback_args, callback_func);
      return;
    }
    for (Node* x = FindGreaterOrEqual(key); x != nullptr && callback_func(callback_args, x->Key());
         x = x->Next(0)) {
    }
  }

  // Everything lives in the memtable's arena, which reports itself.
  size_t ApproximateMemoryUsage() override { return 0; }

  class Iter;
  MemTableRep::Iterator* GetIterator(rocksdb::Arena* arena) override;

  // The first node whose key is >= key (nullptr: none).
  Node* FindGreaterOrEqual(const char* key) const {
    Node* before = nullptr;
    return FindBracket(key, &before);
  }
  // The last node whose key is < key (head_: none).
  Node* FindLessThan(const char* key) const {
    Node* before = nullptr;
    (void)FindBracket(key, &before);
    return before;
  }
  // The last node (head_: the list is empty).
  Node* FindLast() const {
    Node* x = head_;
    int level = max_height_.load(std::memory_order_relaxed) - 1;
    while (true) {
      Node* next = x->Next(level);
      if (next != nullptr) {
        x = next;
      } else {
        if (level == 0) return x;
        --level;
      }
    }
  }
  Node* head() const { return head_; }
  // Orders two entries (or encoded lookup keys) as the memtable's key comparator does; for the
  // store's families (all bytewise) without its two virtual calls per comparison.
  int Compare(const char* a, const char* b) const {
    if (bytewise_) {
      const int r = CompareBytewiseEntries(a, b);
      if (r != -2) return r;
    }
    return cmp_(a, b);
  }

 private:
  // `bytes` of the memtable's arena (which hands out unaligned memory) at `align`.
  char* AllocateAligned(size_t bytes, size_t align) {
    char* raw = nullptr;
    MemTableRep::Allocate(bytes + align - 1, &raw);
    const uintptr_t p = (reinterpret_cast<uintptr_t>(raw) + align - 1) & ~(uintptr_t{align} - 1);
    return reinterpret_cast<char*>(p);
  }

  Node* NewNode(int height, size_t key_len) {
    const size_t links = sizeof(std::atomic<Node*>) * static_cast<size_t>(height);
    char* base = AllocateAligned(links + key_len, alignof(std::atomic<Node*>));
    for (int i = 0; i < height; ++i) {
      new (base + sizeof(std::atomic<Node*>) * static_cast<size_t>(i)) std::atomic<Node*>(nullptr);
    }
    return reinterpret_cast<Node*>(base + links - sizeof(std::atomic<Node*>));
  }

  Splice* NewSplice() {
    auto* s = new (AllocateAligned(sizeof(Splice), alignof(Splice))) Splice;
    s->height = 0;
    return s;
  }

  int RandomHeight() {
    int height = 1;
    while (height < kMaxHeight && NextRandom() % kBranching == 0) ++height;
    return height;
  }
  uint32_t NextRandom() {  // xorshift32: only the writer draws
    rnd_ ^= rnd_ << 13;
    rnd_ ^= rnd_ >> 17;
    rnd_ ^= rnd_ << 5;
    return rnd_;
  }

  // Walks down from the head to the pair of level-0 neighbours around key: returns the first
  // node >= key (nullptr: none) and sets *before to the last node < key (head_: none).
  Node* FindBracket(const char* key, Node** before) const {
    Node* x = head_;
    int level = max_height_.load(std::memory_order_relaxed) - 1;
    Node* last_bigger = nullptr;  // a node known to be >= key (not compared twice)
    while (true) {
      Node* next = x->Next(level);
      if (next != last_bigger && next != nullptr && Compare(next->Key(), key) < 0) {
        x = next;
      } else {
        if (level == 0) {
          *before = x;
          return next;
        }
        last_bigger = next;
        --level;
      }
    }
  }

  bool KeyIsAfterNode(const char* key, Node* n) const {
    return n != nullptr && Compare(n->Key(), key) < 0;
  }

  // At `level`, walks from `before` (which is < key) towards `after` to the pair of nodes
  // that brackets key.
  void FindSpliceForLevel(const char* key, Node* before, Node* after, int level, Node** out_prev,
                          Node** out_next) const {
    while (true) {
      Node* next = before->Next(level);
      if (next == after || !KeyIsAfterNode(key, next)) {
        *out_prev = before;
        *out_next = next;
        return;
      }
      before = next;
    }
  }

  bool InsertWith(rocksdb::KeyHandle handle, Splice* splice) {
    Node* x = static_cast<Node*>(handle);
    const int height =
        static_cast<int>(reinterpret_cast<intptr_t>(x->next0.load(std::memory_order_relaxed)));
    const char* key = x->Key();
    int max_height = max_height_.load(std::memory_order_relaxed);
    if (height > max_height) {
      // Readers that see the new height before the head's new links find null there and
      // simply step down a level.
      max_height_.store(height, std::memory_order_relaxed);
      max_height = height;
    }
    // Levels below `recompute` must be searched again; from `recompute` up the splice
    // brackets the key.
    int recompute = 0;
    if (splice->height < max_height) {
      splice->prev[max_height] = head_;
      splice->next[max_height] = nullptr;
      splice->height = max_height;
      recompute = max_height;
    } else {
      while (recompute < max_height) {
        if (splice->prev[recompute]->Next(recompute) != splice->next[recompute]) {
          ++recompute;  // something went in between at this level since
        } else if (splice->prev[recompute] != head_ &&
                   !KeyIsAfterNode(key, splice->prev[recompute])) {
          Node* bad = splice->prev[recompute];  // the key goes before the splice
          while (splice->prev[recompute] == bad) ++recompute;
        } else if (KeyIsAfterNode(key, splice->next[recompute])) {
          Node* bad = splice->next[recompute];  // the key goes after the splice
          while (splice->next[recompute] == bad) ++recompute;
        } else {
          break;  // this level brackets the key
        }
      }
    }
    for (int i = recompute - 1; i >= 0; --i) {
      FindSpliceForLevel(key, splice->prev[i + 1], splice->next[i + 1], i, &splice->prev[i],
                         &splice->next[i]);
    }
    for (int i = 0; i < height; ++i) {
      if (i >= recompute && splice->prev[i]->Next(i) != splice->next[i]) {
        FindSpliceForLevel(key, splice->prev[i], nullptr, i, &splice->prev[i], &splice->next[i]);
      }
      if (i == 0 && splice->next[0] != nullptr && Compare(key, splice->next[0]->Key()) >= 0) {
        return false;  // an equal entry is already there
      }
      x->SetNextRelaxed(i, splice->next[i]);
      splice->prev[i]->SetNext(i, x);  // publishes x at this level
    }
    for (int i = 0; i < height; ++i) splice->prev[i] = x;
    return true;
  }

  const Comparator& cmp_;
  const bool bytewise_;  // cmp_ orders as CompareBytewiseEntries (checked when made)
  Node* head_ = nullptr;
  std::atomic<int> max_height_{1};
  Splice* seq_splice_ = nullptr;
  uint32_t rnd_ = 0x9e3779b9u;
};

class SkipListRep::Iter : public rocksdb::MemTableRep::Iterator {
 public:
  Iter(const SkipListRep* list, bool pooled) : list_(list), pooled_(pooled) {}
  ~Iter() override {
    delete encoded_;
    if (pooled_) KeepIteratorMemory(this);
  }

  bool Valid() const override { return node_ != nullptr; }
  const char* key() const override { return node_->Key(); }
  void Next() override { node_ = node_->Next(0); }
  void Prev() override {
    node_ = list_->FindLessThan(node_->Key());
    if (node_ == list_->head()) node_ = nullptr;
  }
  void Seek(const rocksdb::Slice& internal_key, const char* memtable_key) override {
    node_ = list_->FindGreaterOrEqual(memtable_key ? memtable_key : Encode(internal_key));
  }
  void SeekForPrev(const rocksdb::Slice& internal_key, const char* memtable_key) override {
    const char* k = memtable_key ? memtable_key : Encode(internal_key);
    node_ = list_->FindGreaterOrEqual(k);
    if (node_ == nullptr) {
      SeekToLast();
    }
    while (node_ != nullptr && list_->Compare(k, node_->Key()) < 0) Prev();
  }
  void SeekToFirst() override { node_ = list_->head()->Next(0); }
  void SeekToLast() override {
    node_ = list_->FindLast();
    if (node_ == list_->head()) node_ = nullptr;
  }

 private:
  // The memtable form of an internal key: its length as a varint32, then the key.
  const char* Encode(const rocksdb::Slice& internal_key) {
    if (encoded_ == nullptr) encoded_ = new std::string;
    encoded_->clear();
    auto n = static_cast<uint32_t>(internal_key.size());
    while (n >= 0x80) {
      encoded_->push_back(static_cast<char>(n | 0x80));
      n >>= 7;
    }
    encoded_->push_back(static_cast<char>(n));
    encoded_->append(internal_key.data(), internal_key.size());
    return encoded_->data();
  }

  const SkipListRep* list_;
  Node* node_ = nullptr;
  std::string* encoded_ = nullptr;  // Seek scratch, made on first need
  bool pooled_;
};

rocksdb::MemTableRep::Iterator* SkipListRep::GetIterator(rocksdb::Arena* arena) {
  if (arena == nullptr) return new Iter(this, false);
  // RocksDB will run the destructor in place and not free the memory: see KeepIteratorMemory.
  return new (TakeIteratorMemory(sizeof(Iter))) Iter(this, true);
}

class Factory : public rocksdb::MemTableRepFactory {
 public:
  using MemTableRepFactory::CreateMemTableRep;
  rocksdb::MemTableRep* CreateMemTableRep(const Comparator& cmp, rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new SkipListRep(cmp, allocator);
  }
  const char* Name() const override { return "coordinated.SkipListRep"; }
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewSkipListMemTableFactory() {
  return std::make_shared<Factory>();
}

}  // namespace coordinated::storage
