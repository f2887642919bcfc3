// The coordinator's reads of a leased unit (at renewal and finish) are answered by the store's
// write cache, with the same outcome as without it. (The open attempt is in the unit record.)
#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using WriteCacheUseTest = CoordinatorTest;

TEST_F(WriteCacheUseTest, RenewAndFinishReadTheLeasedRecordsFromTheCache) {
  Spec("s");
  AddKeys("s", {"a", "b"});
  ASSERT_EQ(WorkOne("w"), "a");
  const uint64_t before = store()->write_cache_hits();
  auto renewed = Update("s", B("a"), coordinated::MapOf({{"lease_time", U(600)}}));
  EXPECT_TRUE(renewed.first);
  EXPECT_GE(store()->write_cache_hits(), before + 1);  // the unit
  const uint64_t after_renew = store()->write_cache_hits();
  EXPECT_TRUE(Finish("s", "a").first);
  EXPECT_GE(store()->write_cache_hits(), after_renew + 1);
  EXPECT_EQ(AttemptOutcomes("s", "a"), std::vector<std::string>{"finished"});
  EXPECT_EQ(StatusCode("s", "a"), storage::kFinished);
  // A finished unit's record was written without the mark: its next read is RocksDB's.
  const uint64_t after_finish = store()->write_cache_hits();
  EXPECT_EQ(StatusCode("s", "a"), storage::kFinished);
  EXPECT_EQ(store()->write_cache_hits(), after_finish);
  Restart();
  EXPECT_EQ(StatusCode("s", "a"), storage::kFinished);
  EXPECT_EQ(AttemptOutcomes("s", "a"), std::vector<std::string>{"finished"});
}

}  // namespace
}  // namespace coordtest
