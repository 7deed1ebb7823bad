// Training data without images: bucket sizes, caption processing, the resumable bucket batcher, the validation split,
// and the on-disk tensor cache (hit, miss after a change, damaged file).
#include "gesso/training/batches.h"
#include "gesso/training/buckets.h"
#include "gesso/training/dataset.h"
#include "gesso/training/latent_cache.h"

#include "expect_error.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

using namespace gesso::training;
using gesso::ErrorCode;

namespace {

DatasetItem fakeItem(int index, int bucket_width, int bucket_height) {
  DatasetItem item;
  item.image_path = "/data/image" + std::to_string(1000 + index) + ".png";
  item.width = bucket_width * 2;
  item.height = bucket_height * 2;
  item.bucket_width = bucket_width;
  item.bucket_height = bucket_height;
  item.content_hash = std::string(60, '0') + std::to_string(1000 + index);
  item.preprocessing = "test";
  return item;
}

// 23 items in three buckets of 11, 7 and 5 items.
std::vector<DatasetItem> fakeItems() {
  std::vector<DatasetItem> items;
  for (int i = 0; i < 23; ++i) items.push_back(i < 11 ? fakeItem(i, 512, 512) : i < 18 ? fakeItem(i, 448, 576) : fakeItem(i, 640, 384));
  return items;
}

std::vector<std::vector<size_t>> drawBatches(BucketBatcher& batcher, int count) {
  std::vector<std::vector<size_t>> batches;
  for (int i = 0; i < count; ++i) batches.push_back(batcher.next());
  return batches;
}

std::vector<std::string> splitTags(const std::string& caption) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (true) {
    const size_t comma = caption.find(", ", start);
    tags.push_back(caption.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return tags;
}

struct TinyModule : torch::nn::Module {
  TinyModule() {
    weight = register_parameter("weight", at::arange(6, at::kFloat).view({2, 3}));
    bias = register_parameter("bias", at::zeros({2}));
    register_buffer("scale", at::ones({1}));
  }
  at::Tensor weight, bias;
};

}  // namespace

class TrainingDataBatchesTest : public QObject {
  Q_OBJECT

 private slots:
  void bucketsAt512AreKohyaLike() {
    // Worked out by hand: the shorter side in steps of 64, the longer one the largest multiple of 64 within 512².
    const std::vector<BucketSize> expected{{256, 1024}, {320, 768}, {384, 640}, {448, 576}, {512, 512},
                                           {576, 448},  {640, 384}, {768, 320}, {1024, 256}};
    const auto buckets = makeBuckets(512, 64);
    QCOMPARE(buckets.size(), expected.size());
    for (size_t i = 0; i < buckets.size(); ++i) {
      QCOMPARE(buckets[i].width, expected[i].width);
      QCOMPARE(buckets[i].height, expected[i].height);
    }
  }

  void bucketSizesFollowTheRules_data() {
    QTest::addColumn<int>("resolution");
    QTest::addColumn<int>("step");
    QTest::newRow("512/64") << 512 << 64;
    QTest::newRow("768/64") << 768 << 64;
    QTest::newRow("1024/64") << 1024 << 64;
    QTest::newRow("1024/32") << 1024 << 32;
    QTest::newRow("520/8") << 520 << 8;
  }
  void bucketSizesFollowTheRules() {
    QFETCH(int, resolution);
    QFETCH(int, step);
    const auto buckets = makeBuckets(resolution, step);
    const double area = double(resolution) * resolution;
    double worst_area = 1.0;
    for (const BucketSize& bucket : buckets) {
      QCOMPARE(bucket.width % step, 0);
      QCOMPARE(bucket.height % step, 0);
      QVERIFY(bucket.width >= step && bucket.height >= step);
      QVERIFY(std::max(bucket.width, bucket.height) <= 4 * std::min(bucket.width, bucket.height));
      const double fraction = bucket.width * double(bucket.height) / area;
      QVERIFY2(fraction <= 1.0, qPrintable(QString("%1x%2 exceeds the area").arg(bucket.width).arg(bucket.height)));
      // Flooring the longer side loses less than one step of it.
      QVERIFY(area - bucket.width * double(bucket.height) < double(step) * std::min(bucket.width, bucket.height));
      worst_area = std::min(worst_area, fraction);
      QVERIFY(std::find(buckets.begin(), buckets.end(), BucketSize{bucket.height, bucket.width}) != buckets.end());
    }
    qInfo("%zu buckets, smallest area %.1f%% of %d²", buckets.size(), worst_area * 100, resolution);
  }

  void imagesGoToTheNearestAspect_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<int>("bucket_width");
    QTest::addColumn<int>("bucket_height");
    QTest::newRow("square") << 1000 << 1000 << 512 << 512;
    QTest::newRow("4:3") << 1600 << 1200 << 576 << 448;    // 1.333 vs 1.286 (576/448) and 1.667 (640/384)
    QTest::newRow("3:4") << 600 << 800 << 448 << 576;
    QTest::newRow("16:9") << 1920 << 1080 << 640 << 384;   // 1.778 vs 1.667 and 2.4
    QTest::newRow("2.4:1") << 2400 << 1000 << 768 << 320;
    QTest::newRow("1:3") << 300 << 900 << 320 << 768;      // log distance 0.22 to 1:2.4, 0.29 to 1:4
    QTest::newRow("10:1") << 5000 << 500 << 1024 << 256;   // beyond the limit: the widest bucket
    QTest::newRow("tiny") << 7 << 5 << 576 << 448;
  }
  void imagesGoToTheNearestAspect() {
    QFETCH(int, width);
    QFETCH(int, height);
    QFETCH(int, bucket_width);
    QFETCH(int, bucket_height);
    const BucketSize bucket = chooseBucket(width, height, makeBuckets(512, 64));
    QCOMPARE(bucket.width, bucket_width);
    QCOMPARE(bucket.height, bucket_height);
    const auto [covered_width, covered_height] = coverSize(width, height, bucket);
    QVERIFY(covered_width >= bucket.width && covered_height >= bucket.height);
    QVERIFY(covered_width == bucket.width || covered_height == bucket.height);  // just covers
    QVERIFY(std::abs(double(covered_width) / covered_height - double(width) / height) < 0.01 * double(width) / height + 1.0 / covered_height);
  }

  void badBucketOptionsAreRefused() {
    GESSO_EXPECT_ERROR(makeBuckets(512, 60), ErrorCode::InvalidArgument, "multiple of 8");
    GESSO_EXPECT_ERROR(makeBuckets(32, 64), ErrorCode::InvalidArgument, "resolution 32");
    DatasetOptions options;
    options.buckets = false;
    options.resolution = 500;
    GESSO_EXPECT_ERROR(datasetBuckets(options), ErrorCode::InvalidArgument, "resolution 500");
    options.resolution = 512;
    QCOMPARE(datasetBuckets(options).size(), size_t(1));
  }

  void captionDropoutAndShuffling() {
    DatasetOptions options;
    std::mt19937_64 rng(7);
    const std::string caption = "sks dog, portrait, outdoors, smiling, red collar, grass";
    QCOMPARE(processCaption(caption, options, rng), caption);  // nothing asked: unchanged
    options.caption_dropout = 1.0;
    QCOMPARE(processCaption(caption, options, rng), std::string());
    options.caption_dropout = 0.3;
    int dropped = 0;
    const int draws = 4000;
    for (int i = 0; i < draws; ++i) dropped += processCaption(caption, options, rng).empty();
    qInfo("dropout 0.3: %d of %d dropped", dropped, draws);
    QVERIFY(std::abs(dropped / double(draws) - 0.3) < 0.03);

    options.caption_dropout = 0.0;
    options.shuffle_tags = true;
    options.keep_tags = 2;
    std::set<std::string> orders;
    const std::vector<std::string> original = splitTags(caption);
    for (int i = 0; i < 200; ++i) {
      const std::string shuffled = processCaption(caption, options, rng);
      auto tags = splitTags(shuffled);
      QCOMPARE(tags.size(), original.size());
      QCOMPARE(tags[0], std::string("sks dog"));
      QCOMPARE(tags[1], std::string("portrait"));
      auto sorted = tags, expected = original;
      std::sort(sorted.begin(), sorted.end());
      std::sort(expected.begin(), expected.end());
      QCOMPARE(sorted, expected);
      orders.insert(shuffled);
    }
    qInfo("%zu distinct orders of 4 shuffled tags in 200 draws", orders.size());
    QCOMPARE(orders.size(), size_t(24));  // 4! orders, each drawn with p = 1/24 over 200 draws
    // Same seed, same captions; spaces and empty tags are tidied.
    std::mt19937_64 a(3), b(3);
    QCOMPARE(processCaption(caption, options, a), processCaption(caption, options, b));
    options.keep_tags = 10;
    QCOMPARE(processCaption(" a ,b,, c ", options, a), std::string("a, b, c"));
  }

  void batchesAreSameBucketAndCoverEachEpoch() {
    BucketBatcher batcher(fakeItems(), 4, 42);
    QCOMPARE(batcher.batchesPerEpoch(), int64_t(3 + 2 + 2));  // ceil(11/4) + ceil(7/4) + ceil(5/4)
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      QCOMPARE(batcher.state().epoch, epoch);
      std::multiset<size_t> seen;
      for (int64_t b = 0; b < batcher.batchesPerEpoch(); ++b) {
        const auto batch = batcher.next();
        QVERIFY(!batch.empty() && batch.size() <= 4);
        for (size_t index : batch) {
          QCOMPARE(batcher.items()[index].bucket_width, batcher.items()[batch[0]].bucket_width);
          QCOMPARE(batcher.items()[index].bucket_height, batcher.items()[batch[0]].bucket_height);
          seen.insert(index);
        }
      }
      QCOMPARE(seen.size(), size_t(23));
      QCOMPARE(std::set<size_t>(seen.begin(), seen.end()).size(), size_t(23));  // each item exactly once
    }
    QVERIFY(batcher.epochBatches(0) != batcher.epochBatches(1));  // reshuffled each epoch
  }

  void batchesAreDeterministicAndResumeExactly() {
    BucketBatcher straight(fakeItems(), 3, 1234);
    const auto all = drawBatches(straight, 40);  // crosses several epochs
    BucketBatcher again(fakeItems(), 3, 1234);
    QCOMPARE(drawBatches(again, 40), all);
    BucketBatcher other_seed(fakeItems(), 3, 1235);
    QVERIFY(drawBatches(other_seed, 40) != all);

    for (const int stop : {1, 9, 10, 17, 33}) {
      BucketBatcher first(fakeItems(), 3, 1234);
      const auto before = drawBatches(first, stop);
      const BucketBatcher::State saved = first.state();
      BucketBatcher resumed(fakeItems(), 3, 1234);
      resumed.restore(saved);
      auto after = drawBatches(resumed, 40 - stop);
      auto joined = before;
      joined.insert(joined.end(), after.begin(), after.end());
      QCOMPARE(joined, all);
    }
    BucketBatcher batcher(fakeItems(), 3, 1);
    GESSO_EXPECT_ERROR(batcher.restore({0, batcher.batchesPerEpoch()}), ErrorCode::InvalidArgument, "does not fit");
    GESSO_EXPECT_ERROR(BucketBatcher({}, 3, 1), ErrorCode::InvalidArgument, "no dataset items");
    GESSO_EXPECT_ERROR(BucketBatcher(fakeItems(), 0, 1), ErrorCode::InvalidArgument, "batch size 0");
  }

  void validationSplitIsDeterministic() {
    const auto items = fakeItems();
    QCOMPARE(splitValidation(items, 0.0, 5).second.size(), size_t(0));
    const auto [train, validation] = splitValidation(items, 0.2, 5);
    QCOMPARE(validation.size(), size_t(5));  // round(0.2 × 23)
    QCOMPARE(train.size(), size_t(18));
    std::set<std::string> paths;
    for (const auto& item : train) paths.insert(item.image_path);
    for (const auto& item : validation) paths.insert(item.image_path);
    QCOMPARE(paths.size(), size_t(23));
    QVERIFY(std::is_sorted(validation.begin(), validation.end(), [](const auto& a, const auto& b) { return a.image_path < b.image_path; }));
    const auto repeat = splitValidation(items, 0.2, 5);
    QCOMPARE(repeat.second.size(), validation.size());
    for (size_t i = 0; i < validation.size(); ++i) QCOMPARE(repeat.second[i].image_path, validation[i].image_path);
    // Another seed picks another set (the chance of the same 5 of 23 is 1 in 33649).
    const auto other = splitValidation(items, 0.2, 6).second;
    bool same = true;
    for (size_t i = 0; i < validation.size(); ++i) same = same && other[i].image_path == validation[i].image_path;
    QVERIFY(!same);
    QCOMPARE(splitValidation({items[0], items[1]}, 0.01, 5).second.size(), size_t(1));  // at least one held out
    GESSO_EXPECT_ERROR(splitValidation(items, 1.0, 5), ErrorCode::InvalidArgument, "validation split");
  }

  void cacheHitsAfterTheFirstPass() {
    QTemporaryDir dir;
    TensorCache cache(dir.path().toStdString(), "vae1234");
    const auto items = fakeItems();
    Augmentation augmentation;
    augmentation.crop_left = 3;
    std::map<std::string, std::map<std::string, at::Tensor>> stored;
    for (const auto& item : items) {
      const std::string key = TensorCache::latentKey(item, augmentation);
      QVERIFY(!cache.load(key));
      const at::Tensor latent = at::randn({4, item.bucket_height / 8, item.bucket_width / 8});
      stored[key] = {{"latent", latent}, {"mask", at::rand({1, 4, 4}).to(at::kHalf)}};
      cache.store(key, stored[key]);
      QVERIFY(cache.pathFor(key).find(dir.path().toStdString() + "/vae1234/") == 0);
    }
    QCOMPARE(cache.misses(), int64_t(23));
    QCOMPARE(cache.hits(), int64_t(0));
    TensorCache second(dir.path().toStdString(), "vae1234");  // a second run
    for (const auto& item : items) {
      const std::string key = TensorCache::latentKey(item, augmentation);
      const auto loaded = second.load(key);
      QVERIFY(loaded);
      QCOMPARE(loaded->size(), size_t(2));
      QVERIFY(at::equal(loaded->at("latent"), stored[key]["latent"]));
      QVERIFY(at::equal(loaded->at("mask"), stored[key]["mask"]));
      QCOMPARE(loaded->at("mask").scalar_type(), at::kHalf);
    }
    QCOMPARE(second.hits(), int64_t(23));
    QCOMPARE(second.misses(), int64_t(0));

    // Anything that changes the pixels changes the key: content, mask, bucket, augmentation, preprocessing.
    const std::string key = TensorCache::latentKey(items[0], augmentation);
    DatasetItem changed = items[0];
    changed.content_hash[0] = 'f';
    QVERIFY(!second.load(TensorCache::latentKey(changed, augmentation)));
    changed = items[0];
    changed.mask_hash = "abc";
    QVERIFY(TensorCache::latentKey(changed, augmentation) != key);
    changed = items[0];
    changed.bucket_width = 448;
    QVERIFY(TensorCache::latentKey(changed, augmentation) != key);
    changed = items[0];
    changed.preprocessing = "other background";
    QVERIFY(TensorCache::latentKey(changed, augmentation) != key);
    Augmentation flipped = augmentation;
    flipped.flip = true;
    QVERIFY(TensorCache::latentKey(items[0], flipped) != key);
    QVERIFY(!TensorCache(dir.path().toStdString(), "vae9999").load(key));  // another VAE
    QVERIFY(TensorCache::textKey("a cat", 1) != TensorCache::textKey("a cat", 2));
    QVERIFY(TensorCache::textKey("a cat", 1) != TensorCache::textKey("a cat ", 1));
  }

  void damagedCacheFilesAreMisses_data() {
    QTest::addColumn<QString>("damage");
    QTest::newRow("truncated") << "truncated";
    QTest::newRow("flipped byte") << "flipped";
    QTest::newRow("garbage") << "garbage";
    QTest::newRow("empty") << "empty";
  }
  void damagedCacheFilesAreMisses() {
    QFETCH(QString, damage);
    QTemporaryDir dir;
    TensorCache cache(dir.path().toStdString(), "te");
    const std::string key = TensorCache::textKey("a photo of a cat", 1);
    const at::Tensor embedding = at::randn({77, 32});
    cache.store(key, {{"embedding", embedding}});
    const std::string path = cache.pathFor(key);
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (damage == "truncated") bytes.resize(bytes.size() - 100);
    if (damage == "flipped") bytes[bytes.size() - 7] = char(bytes[bytes.size() - 7] ^ 0x10);  // inside the data
    if (damage == "garbage") bytes = std::string(500, 'x');
    if (damage == "empty") bytes.clear();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    QVERIFY(!cache.load(key));
    QCOMPARE(cache.misses(), int64_t(1));
    cache.store(key, {{"embedding", embedding}});  // rewritten
    const auto loaded = cache.load(key);
    QVERIFY(loaded);
    QVERIFY(at::equal(loaded->at("embedding"), embedding));
    // No temporary files remain beside it.
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) files += entry.is_regular_file();
    QCOMPARE(files, 1);
  }

  void aFileUnderAnotherKeyIsAMiss() {
    QTemporaryDir dir;
    TensorCache cache(dir.path().toStdString(), "te");
    const std::string key_a = TensorCache::textKey("a", 1), key_b = TensorCache::textKey("b", 1);
    cache.store(key_a, {{"embedding", at::ones({2})}});
    std::filesystem::copy_file(cache.pathFor(key_a), cache.pathFor(key_b));
    QVERIFY(!cache.load(key_b));
    QVERIFY(cache.load(key_a));
    GESSO_EXPECT_ERROR(TensorCache(dir.path().toStdString(), "../x"), ErrorCode::InvalidArgument, "not a folder name");
  }

  void moduleHashFollowsTheWeights() {
    TinyModule module;
    const std::string hash = hashModule(module);
    QCOMPARE(hash.size(), size_t(64));
    TinyModule same;
    QCOMPARE(hashModule(same), hash);
    {
      at::NoGradGuard no_grad;
      same.weight[1][2].add_(1e-6);
    }
    QVERIFY(hashModule(same) != hash);
    TinyModule half;
    half.to(at::kHalf);
    QVERIFY(hashModule(half) != hash);
    TinyModule buffer;
    buffer.named_buffers()["scale"].fill_(2.0);
    QVERIFY(hashModule(buffer) != hash);
  }
};

QTEST_GUILESS_MAIN(TrainingDataBatchesTest)
#include "test_training_data_batches.moc"
