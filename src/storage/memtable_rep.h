// The memtable index of every column family: a skip list of RocksDB's encoded memtable entries,
// built here rather than taken from the library.
//
// Why: the RocksDB library this project builds against is compiled with its assertions enabled,
// and the library's skip list checks every level of an insert's position after the insert (a
// dozen or more extra key comparisons per memtable entry, a third of the state thread's
// instructions). This one follows the same design (RocksDB's InlineSkipList: links stored in
// front of the entry, per-prefix insert hints that remember where the last insert went) and
// compares only what placing the entry needs. Where the family is ordered bytewise (every one
// of the store's; checked against the memtable's comparator when each memtable is made) it
// orders entries itself, without the comparator's two virtual calls per comparison.
//
// Contract (what RocksDB's MemTableRep asks of an implementation):
//  * one writer at a time (the store turns concurrent memtable writes off); any number of
//    readers concurrently with it: a reader sees each entry completely or not at all (links are
//    published with release stores after the entry is filled in);
//  * entries are never removed or changed; all memory comes from the memtable's arena
//    (MemTableRep::Allocate), so the memtable's memory accounting covers it;
//  * Insert returns false (and inserts nothing) for an entry equal to one already present;
//  * range deletions go to the library's own index, and the library shares a memtable's insert
//    hints between the two: a hint (one of our splices) must never reach the library's index,
//    which Store::Write ensures by refusing range deletions that start inside a hint prefix
//    (CfInfo::hint_prefix).
// Thread-safety: as above. Iterators may be used on any thread, one thread each.
#pragma once

#include <rocksdb/memtablerep.h>

#include <memory>

namespace coordinated::storage {

// A factory for ColumnFamilyOptions::memtable_factory.
std::shared_ptr<rocksdb::MemTableRepFactory> NewSkipListMemTableFactory();

}  // namespace coordinated::storage
