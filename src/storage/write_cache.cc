#include "storage/write_cache.h"

namespace coordinated::storage {

bool WriteCache::Get(Cf cf, std::string_view key, std::string* value) const {
  if (!enabled()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const Index& index = index_[CfIndex(cf)];
  auto it = index.find(key);
  if (it == index.end()) return false;
  value->assign(it->second->value);
  ++hits_;
  return true;
}

void WriteCache::Put(Cf cf, std::string_view key, std::string_view value) {
  if (!enabled()) return;
  const size_t charge = key.size() + value.size() + kEntryOverhead;
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked(cf, key);
  if (charge > budget_) return;
  while (bytes_ + charge > budget_ && !order_.empty()) {
    const Entry& oldest = order_.front();
    Index& index = IndexOf(oldest.cf);
    EraseLocked(index, index.find(oldest.key));
  }
  order_.push_back({cf, std::string(key), std::string(value)});
  auto last = std::prev(order_.end());
  IndexOf(cf).emplace(std::string_view(last->key), last);
  bytes_ += charge;
}

void WriteCache::Erase(Cf cf, std::string_view key) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked(cf, key);
}

void WriteCache::EraseRange(Cf cf, std::string_view begin, std::string_view end) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Index& index = IndexOf(cf);
  auto it = index.lower_bound(begin);
  while (it != index.end() && it->first < end) {
    auto next = std::next(it);
    EraseLocked(index, it);
    it = next;
  }
}

void WriteCache::EraseLocked(Cf cf, std::string_view key) {
  Index& index = IndexOf(cf);
  if (index.empty()) return;
  auto it = index.find(key);
  if (it != index.end()) EraseLocked(index, it);
}

void WriteCache::EraseLocked(Index& index, Index::iterator it) {
  auto node = it->second;
  index.erase(it);  // before the node, whose key the index entry's key views
  bytes_ -= Charge(*node);
  order_.erase(node);
}

void WriteCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& index : index_) index.clear();
  order_.clear();
  bytes_ = 0;
}

size_t WriteCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t WriteCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

uint64_t WriteCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

}  // namespace coordinated::storage
