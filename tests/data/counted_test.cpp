// The counts in messages read as English: data::counted (apps/data/counted.h).
#include "apps/data/counted.h"

#include <gtest/gtest.h>

namespace maskdet::data {

TEST(Counted, OneIsSingularEverythingElsePlural) {
  EXPECT_EQ(counted(1, "warning"), "1 warning");
  EXPECT_EQ(counted(0, "warning"), "0 warnings");
  EXPECT_EQ(counted(2, "bad sample"), "2 bad samples");
}

TEST(Counted, RegularEnglishPlurals) {
  EXPECT_EQ(counted(3, "box"), "3 boxes");
  EXPECT_EQ(counted(2, "entry"), "2 entries");
  EXPECT_EQ(counted(2, "day"), "2 days");
  EXPECT_EQ(counted(2, "batch"), "2 batches");
  EXPECT_EQ(counted(2, "class"), "2 classes");
  EXPECT_EQ(counted(3, "epoch"), "3 epochs");
}

}  // namespace maskdet::data
