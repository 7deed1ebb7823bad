// Checkpoints and key accounting: lazy single-file access, strict loading into a generic module (missing, extra,
// misshapen, ignorable keys; dtype conversion; meta-device modules), whole-file accounting, standalone VAEs, and the
// diffusers layout (golden LDM names -> diffusers names by the inverse tables -> a diffusers folder -> back).
#include "gesso/io/checkpoint.h"

#include "gesso/error.h"
#include "gesso/io/diffusers_names.h"
#include "gesso/io/safetensors.h"
#include "gesso/io/state_dict.h"
#include "gesso/models/model_config_files.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::io::Checkpoint;

namespace {

using Tensors = std::vector<std::pair<std::string, at::Tensor>>;

// A module tree whose parameters are exactly `shapes` (dotted names become nested modules).
std::shared_ptr<torch::nn::Module> moduleFromShapes(const std::map<std::string, std::vector<int64_t>>& shapes,
                                                    const at::TensorOptions& options) {
  auto root = std::make_shared<torch::nn::Module>();
  for (const auto& [name, shape] : shapes) {
    std::shared_ptr<torch::nn::Module> node = root;
    size_t start = 0;
    for (size_t dot = name.find('.'); dot != std::string::npos; start = dot + 1, dot = name.find('.', start)) {
      const std::string part = name.substr(start, dot - start);
      auto children = node->named_children();
      if (auto* child = children.find(part)) {
        node = *child;
      } else {
        node = node->register_module(part, std::make_shared<torch::nn::Module>());
      }
    }
    node->register_parameter(name.substr(start), at::zeros(shape, options));
  }
  return root;
}

// The shapes of a checkpoint's tensors under `prefix`, with the prefix removed.
std::map<std::string, std::vector<int64_t>> shapesUnder(const Checkpoint& checkpoint, const std::string& prefix) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& name : checkpoint.namesUnder(prefix)) shapes[name.substr(prefix.size())] = checkpoint.find(name)->shape;
  return shapes;
}

Tensors allTensors(const gesso::io::SafetensorsFile& file, const std::string& strip = "") {
  Tensors tensors;
  for (const auto& info : file.tensors()) {
    std::string name = info.name;
    if (!strip.empty() && name.rfind(strip, 0) == 0) name = name.substr(strip.size());
    tensors.emplace_back(name, file.tensor(info.name));
  }
  return tensors;
}

QString detailOf(const std::function<void()>& body, ErrorCode expected) {
  try {
    body();
  } catch (const GessoError& error) {
    if (error.error().code != expected) {
      return "WRONG CODE " + QString(gesso::errorCodeName(error.error().code)) + ": " + QString::fromStdString(error.error().detail);
    }
    return QString::fromStdString(error.error().detail);
  }
  return "NO ERROR";
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// LDM tensors (names relative to a component) written under diffusers names by an inverse table.
Tensors toDiffusers(const Tensors& ldm, const std::vector<gesso::io::NameMapping>& mappings) {
  std::map<std::string, at::Tensor> by_name(ldm.begin(), ldm.end());
  Tensors out;
  for (const auto& mapping : mappings) {
    std::vector<at::Tensor> sources;
    for (const auto& source : mapping.sources) sources.push_back(by_name.at(source));
    out.emplace_back(mapping.target, gesso::io::applyMapping(mapping, sources));
  }
  return out;
}

std::vector<std::string> namesOf(const Tensors& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : tensors) names.push_back(name);
  return names;
}

}  // namespace

class CheckpointTest : public QObject {
  Q_OBJECT

 private slots:
  void singleFileIsLazyAndExact() {
    GESSO_REQUIRE_SHARED();
    const Checkpoint checkpoint = Checkpoint::open(gesso::test::goldenPath("unet_tiny.safetensors"));
    QCOMPARE(checkpoint.tensors().size(), size_t(208));
    QCOMPARE(checkpoint.layout(), gesso::io::CheckpointLayout::SingleFile);
    auto file = gesso::test::openGolden("unet_tiny.safetensors");
    const std::string key = "model.diffusion_model.input_blocks.1.1.proj_in.weight";
    QCOMPARE(checkpoint.find(key)->shape, file->find(key)->shape);
    QVERIFY(at::equal(checkpoint.load(key), file->tensor(key)));
    QCOMPARE(detailOf([&] { checkpoint.load("model.diffusion_model.nothing"); }, ErrorCode::MissingKey).contains("nothing"), true);
  }

  void loadsEveryGoldenComponent_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<int>("count");
    QTest::newRow("unet") << "unet_tiny.safetensors" << "model.diffusion_model." << 208;
    QTest::newRow("unet_xl") << "unet_tiny_xl.safetensors" << "model.diffusion_model." << 292;
    QTest::newRow("vae") << "vae_tiny.safetensors" << "first_stage_model." << 124;
    QTest::newRow("text_f16") << "text_clip_tiny.safetensors" << "cond_stage_model." << 53;
  }
  void loadsEveryGoldenComponent() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, file);
    QFETCH(QString, prefix);
    QFETCH(int, count);
    const Checkpoint checkpoint = Checkpoint::open(gesso::test::goldenPath(file.toStdString()));
    const auto shapes = shapesUnder(checkpoint, prefix.toStdString());
    for (const auto& options : {at::TensorOptions().dtype(at::kFloat), at::TensorOptions().dtype(at::kFloat).device(at::kMeta)}) {
      auto module = moduleFromShapes(shapes, options);
      const auto report = gesso::io::loadComponent(*module, checkpoint, prefix.toStdString());
      QCOMPARE(int(report.loaded.size()), count);
      QVERIFY(report.ignored.empty());
      if (options.device().is_meta()) continue;  // checked only
      double max_diff = 0;
      for (const auto& item : module->named_parameters()) {
        QCOMPARE(item.value().scalar_type(), at::kFloat);
        const at::Tensor expected = checkpoint.load(prefix.toStdString() + item.key()).to(at::kFloat);
        max_diff = std::max(max_diff, (item.value() - expected).abs().max().item<double>());
      }
      qInfo("%s: %d tensors loaded, maxdiff=%g", qPrintable(file), count, max_diff);
      QCOMPARE(max_diff, 0.0);
    }
  }

  void keyErrorsNameTheKeys() {
    GESSO_REQUIRE_SHARED();
    const Checkpoint checkpoint = Checkpoint::open(gesso::test::goldenPath("vae_tiny.safetensors"));
    const std::string prefix = "first_stage_model.";
    const auto shapes = shapesUnder(checkpoint, prefix);

    auto extra_parameter = shapes;
    extra_parameter["decoder.extra.weight"] = {3};
    auto module = moduleFromShapes(extra_parameter, at::kFloat);
    QString detail = detailOf([&] { gesso::io::loadComponent(*module, checkpoint, prefix); }, ErrorCode::MissingKey);
    QVERIFY2(detail.contains("first_stage_model.decoder.extra.weight"), qPrintable(detail));

    auto fewer = shapes;
    fewer.erase("encoder.conv_in.bias");
    module = moduleFromShapes(fewer, at::kFloat);
    detail = detailOf([&] { gesso::io::loadComponent(*module, checkpoint, prefix); }, ErrorCode::UnexpectedKey);
    QVERIFY2(detail.contains("first_stage_model.encoder.conv_in.bias"), qPrintable(detail));

    auto misshapen = shapes;
    misshapen["quant_conv.weight"] = {8, 8, 3, 3};
    module = moduleFromShapes(misshapen, at::kFloat);
    detail = detailOf([&] { gesso::io::loadComponent(*module, checkpoint, prefix); }, ErrorCode::ShapeMismatch);
    QVERIFY2(detail.contains("quant_conv.weight") && detail.contains("[8, 8, 1, 1]") && detail.contains("[8, 8, 3, 3]"), qPrintable(detail));

    // Many missing: the list is cut at 20 and gives the count.
    std::map<std::string, std::vector<int64_t>> many = shapes;
    for (int i = 0; i < 30; ++i) many["missing" + std::to_string(i)] = {1};
    module = moduleFromShapes(many, at::kFloat);
    detail = detailOf([&] { gesso::io::loadComponent(*module, checkpoint, prefix); }, ErrorCode::MissingKey);
    QVERIFY2(detail.contains("30 in all"), qPrintable(detail));
  }

  void ignorableKeysAndOptionalTensors() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("extras.safetensors").toStdString();
    gesso::io::writeSafetensors(path, {{"cond_stage_model.model.w", at::ones({2})},
                                       {"cond_stage_model.model.logit_scale", at::ones({})},
                                       {"cond_stage_model.model.transformer.resblocks.0.attn.attn_mask", at::ones({2, 2})},
                                       {"cond_stage_model.transformer.text_model.embeddings.position_ids", at::arange(4).to(at::kFloat).reshape({1, 4})},
                                       {"model_ema.decay", at::ones({})},
                                       {"alphas_cumprod", at::ones({4})}});
    const Checkpoint checkpoint = Checkpoint::open(path);
    auto module = moduleFromShapes({{"model.w", {2}}}, at::kDouble);
    auto report = gesso::io::loadComponent(*module, checkpoint, "cond_stage_model.");
    QCOMPARE(report.loaded.size(), size_t(1));
    QCOMPARE(report.ignored.size(), size_t(3));  // logit_scale, attn_mask, position_ids
    QCOMPARE(module->named_parameters()["model.w"].scalar_type(), at::kDouble);

    // A module that has position_ids (int64 buffer) gets the float-stored values; one lacking logit_scale is fine,
    // one whose attn_mask is absent from the file keeps its own.
    auto with_buffers = moduleFromShapes({{"model.w", {2}}}, at::kFloat);
    auto text_model = with_buffers->register_module("transformer", std::make_shared<torch::nn::Module>())
                          ->register_module("text_model", std::make_shared<torch::nn::Module>())
                          ->register_module("embeddings", std::make_shared<torch::nn::Module>());
    text_model->register_buffer("position_ids", at::zeros({1, 4}, at::kLong));
    with_buffers->named_children()["model"]->register_buffer("attn_mask", at::zeros({2, 2}));
    report = gesso::io::loadComponent(*with_buffers, checkpoint, "cond_stage_model.");
    QCOMPARE(report.loaded.size(), size_t(2));
    QVERIFY(at::equal(with_buffers->named_buffers()["transformer.text_model.embeddings.position_ids"], at::arange(4).reshape({1, 4})));
    QCOMPARE(report.defaulted, std::vector<std::string>{"model.attn_mask"});
  }

  void wholeFileAccounting() {
    GESSO_REQUIRE_SHARED();
    QTemporaryDir dir;
    Tensors combined = allTensors(*gesso::test::openGolden("unet_tiny.safetensors"));
    for (auto& item : allTensors(*gesso::test::openGolden("vae_tiny.safetensors"))) combined.push_back(item);
    for (auto& item : allTensors(*gesso::test::openGolden("text_clip_tiny.safetensors"))) combined.push_back(item);
    combined.emplace_back("betas", at::ones({1000}));
    combined.emplace_back("model_ema.num_updates", at::ones({}));
    const std::string path = dir.filePath("full.safetensors").toStdString();
    gesso::io::writeSafetensors(path, combined);
    const Checkpoint checkpoint = Checkpoint::open(path);
    gesso::ModelConfig config = gesso::detectConfig(checkpoint.shapes());
    QCOMPARE(config.family, gesso::ModelFamily::SD1);
    const auto components = gesso::io::componentPrefixes(config);
    auto account = gesso::io::accountKeys(checkpoint, components);
    gesso::io::requireAllKeysAccounted(checkpoint, account);
    QCOMPARE(account.consumed.size(), size_t(3));
    QCOMPARE(account.consumed[0].second.size(), size_t(208));
    QCOMPARE(account.consumed[1].second.size(), size_t(124));
    QCOMPARE(account.consumed[2].second.size(), size_t(53));
    QCOMPARE(account.ignored.size(), size_t(2));

    combined.emplace_back("lora_unet_down.weight", at::ones({1}));
    gesso::io::writeSafetensors(path, combined);
    const Checkpoint with_stray = Checkpoint::open(path);
    account = gesso::io::accountKeys(with_stray, components);
    const QString detail = detailOf([&] { gesso::io::requireAllKeysAccounted(with_stray, account); }, ErrorCode::UnexpectedKey);
    QVERIFY2(detail.contains("lora_unet_down.weight") && detail.contains("full.safetensors"), qPrintable(detail));
  }

  // A standalone VAE replaces the checkpoint's, whether its names carry the prefix, lack it or are diffusers'.
  void standaloneVae() {
    GESSO_REQUIRE_SHARED();
    QTemporaryDir dir;
    auto vae = gesso::test::openGolden("vae_tiny.safetensors");
    const Tensors bare = allTensors(*vae, "first_stage_model.");
    const std::string bare_path = dir.filePath("bare_vae.safetensors").toStdString();
    gesso::io::writeSafetensors(bare_path, bare);
    const std::string diffusers_path = dir.filePath("diffusers_vae.safetensors").toStdString();
    gesso::io::writeSafetensors(diffusers_path, toDiffusers(bare, gesso::io::ldmVaeToDiffusers(namesOf(bare))));

    // A full checkpoint lends its VAE: only its first_stage_model.* tensors are taken.
    Tensors full = allTensors(*vae);
    for (auto& item : allTensors(*gesso::test::openGolden("unet_tiny_linear.safetensors"))) full.push_back(item);
    const std::string full_path = dir.filePath("full.safetensors").toStdString();
    gesso::io::writeSafetensors(full_path, full);

    for (const std::string& path : {gesso::test::goldenPath("vae_tiny.safetensors"), bare_path, diffusers_path, full_path}) {
      Checkpoint checkpoint = Checkpoint::open(gesso::test::goldenPath("unet_tiny.safetensors"));
      checkpoint.replaceVae(path);
      QCOMPARE(checkpoint.namesUnder("first_stage_model.").size(), size_t(124));
      QCOMPARE(checkpoint.tensors().size(), size_t(208 + 124));
      for (const auto& info : vae->tensors()) {
        QVERIFY2(at::equal(checkpoint.load(info.name), vae->tensor(info.name)), info.name.c_str());
      }
    }
  }

  // The inverse tables give the published diffusers names (spot checks), and the forward tables undo them.
  void diffusersNamesAreTheKnownOnes() {
    GESSO_REQUIRE_SHARED();
    const Tensors unet = allTensors(*gesso::test::openGolden("unet_tiny.safetensors"), "model.diffusion_model.");
    std::map<std::string, std::string> to_diffusers;
    for (const auto& mapping : gesso::io::ldmUNetToDiffusers(namesOf(unet))) to_diffusers[mapping.sources.at(0)] = mapping.target;
    const std::pair<const char*, const char*> expected[] = {
        {"input_blocks.0.0.weight", "conv_in.weight"},
        {"time_embed.2.bias", "time_embedding.linear_2.bias"},
        {"input_blocks.1.0.in_layers.0.weight", "down_blocks.0.resnets.0.norm1.weight"},
        {"input_blocks.1.0.emb_layers.1.weight", "down_blocks.0.resnets.0.time_emb_proj.weight"},
        {"input_blocks.1.1.proj_in.weight", "down_blocks.0.attentions.0.proj_in.weight"},
        {"input_blocks.2.0.op.weight", "down_blocks.0.downsamplers.0.conv.weight"},
        {"input_blocks.3.0.skip_connection.weight", "down_blocks.1.resnets.0.conv_shortcut.weight"},
        {"middle_block.1.transformer_blocks.0.attn2.to_k.weight", "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight"},
        {"middle_block.2.out_layers.3.weight", "mid_block.resnets.1.conv2.weight"},
        {"output_blocks.0.0.in_layers.2.weight", "up_blocks.0.resnets.0.conv1.weight"},
        {"output_blocks.1.1.conv.weight", "up_blocks.0.upsamplers.0.conv.weight"},
        {"output_blocks.2.1.transformer_blocks.0.ff.net.0.proj.weight", "up_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"},
        {"output_blocks.3.0.out_layers.0.bias", "up_blocks.1.resnets.1.norm2.bias"},
        {"out.0.weight", "conv_norm_out.weight"},
        {"out.2.bias", "conv_out.bias"},
    };
    for (const auto& [ldm, diffusers] : expected) QCOMPARE(QString::fromStdString(to_diffusers[ldm]), QString(diffusers));

    const Tensors xl = allTensors(*gesso::test::openGolden("unet_tiny_xl.safetensors"), "model.diffusion_model.");
    to_diffusers.clear();
    for (const auto& mapping : gesso::io::ldmUNetToDiffusers(namesOf(xl))) to_diffusers[mapping.sources.at(0)] = mapping.target;
    QCOMPARE(QString::fromStdString(to_diffusers["label_emb.0.0.weight"]), QString("add_embedding.linear_1.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["output_blocks.1.2.conv.weight"]), QString("up_blocks.0.upsamplers.0.conv.weight"));

    const Tensors vae = allTensors(*gesso::test::openGolden("vae_tiny.safetensors"), "first_stage_model.");
    to_diffusers.clear();
    for (const auto& mapping : gesso::io::ldmVaeToDiffusers(namesOf(vae))) to_diffusers[mapping.sources.at(0)] = mapping.target;
    QCOMPARE(QString::fromStdString(to_diffusers["decoder.up.1.block.0.conv1.weight"]), QString("decoder.up_blocks.0.resnets.0.conv1.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["decoder.up.1.upsample.conv.weight"]), QString("decoder.up_blocks.0.upsamplers.0.conv.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["decoder.up.0.block.0.nin_shortcut.weight"]), QString("decoder.up_blocks.1.resnets.0.conv_shortcut.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["encoder.mid.attn_1.q.weight"]), QString("encoder.mid_block.attentions.0.to_q.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["encoder.mid.attn_1.norm.bias"]), QString("encoder.mid_block.attentions.0.group_norm.bias"));
    QCOMPARE(QString::fromStdString(to_diffusers["decoder.mid.attn_1.proj_out.weight"]), QString("decoder.mid_block.attentions.0.to_out.0.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["encoder.norm_out.weight"]), QString("encoder.conv_norm_out.weight"));
    QCOMPARE(QString::fromStdString(to_diffusers["decoder.mid.block_2.norm1.weight"]), QString("decoder.mid_block.resnets.1.norm1.weight"));

    const QString detail = detailOf([] { gesso::io::diffusersUNetToLdm({"conv_in.weight", "mystery.weight"}); }, ErrorCode::UnexpectedKey);
    QVERIFY2(detail.contains("mystery.weight"), qPrintable(detail));
  }

  // Golden LDM tensors -> a diffusers folder (inverse tables, config.json files) -> Checkpoint -> identical tensors.
  void diffusersRoundTrip_data() {
    QTest::addColumn<QString>("unet");
    QTest::addColumn<bool>("fp16_variant");
    QTest::addColumn<QString>("unet_config");  // the tiny UNet's config as diffusers would write it
    QTest::newRow("unet_tiny") << "unet_tiny" << false
                               << R"({"block_out_channels": [32, 64], "layers_per_block": 1, "attention_head_dim": 2,
                                     "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "cross_attention_dim": 32,
                                     "in_channels": 4, "out_channels": 4, "use_linear_projection": false})";
    QTest::newRow("unet_tiny_xl") << "unet_tiny_xl" << true
                                  << R"({"block_out_channels": [32, 64], "layers_per_block": 1, "attention_head_dim": [4, 8],
                                        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"], "cross_attention_dim": 32,
                                        "transformer_layers_per_block": [1, 2], "use_linear_projection": true,
                                        "addition_embed_type": "text_time", "projection_class_embeddings_input_dim": 24,
                                        "in_channels": 4, "out_channels": 4})";
  }
  void diffusersRoundTrip() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, unet);
    QFETCH(bool, fp16_variant);
    QFETCH(QString, unet_config);
    QTemporaryDir dir;
    const std::filesystem::path root = dir.path().toStdString();
    for (const char* folder : {"unet", "vae", "text_encoder", "text_encoder_2", "tokenizer"}) std::filesystem::create_directories(root / folder);
    writeText((root / "model_index.json").string(), R"({"_class_name": "StableDiffusionXLPipeline"})");
    const std::string suffix = fp16_variant ? ".fp16.safetensors" : ".safetensors";

    auto unet_file = gesso::test::openGolden(unet.toStdString() + ".safetensors");
    const Tensors unet_ldm = allTensors(*unet_file, "model.diffusion_model.");
    gesso::io::writeSafetensors((root / "unet" / ("diffusion_pytorch_model" + suffix)).string(),
                                toDiffusers(unet_ldm, gesso::io::ldmUNetToDiffusers(namesOf(unet_ldm))));
    auto vae_file = gesso::test::openGolden("vae_tiny.safetensors");
    const Tensors vae_ldm = allTensors(*vae_file, "first_stage_model.");
    gesso::io::writeSafetensors((root / "vae" / ("diffusion_pytorch_model" + suffix)).string(),
                                toDiffusers(vae_ldm, gesso::io::ldmVaeToDiffusers(namesOf(vae_ldm))));
    // SDXL text encoders: the HF one as is, the open_clip one converted to CLIPTextModelWithProjection names.
    auto text_file = gesso::test::openGolden("text_sdxl_tiny.safetensors");
    Tensors text0, text1;
    for (const auto& info : text_file->tensors()) {
      const std::string p0 = "conditioner.embedders.0.transformer.", p1 = "conditioner.embedders.1.model.";
      if (info.name.rfind(p0, 0) == 0) text0.emplace_back(info.name.substr(p0.size()), text_file->tensor(info.name));
      if (info.name.rfind(p1, 0) == 0) text1.emplace_back(info.name.substr(p1.size()), text_file->tensor(info.name));
    }
    gesso::io::writeSafetensors((root / "text_encoder" / ("model" + suffix)).string(), text0);
    writeText((root / "text_encoder" / "config.json").string(), R"({"hidden_act": "quick_gelu", "hidden_size": 64})");
    const auto text1_mappings = gesso::io::openClipToDiffusersClip(namesOf(text1));
    gesso::io::writeSafetensors((root / "text_encoder_2" / ("model" + suffix)).string(), toDiffusers(text1, text1_mappings));
    writeText((root / "text_encoder_2" / "config.json").string(), R"({"hidden_act": "gelu", "hidden_size": 80})");

    const Checkpoint checkpoint = Checkpoint::open(root.string());
    QCOMPARE(checkpoint.layout(), gesso::io::CheckpointLayout::Diffusers);
    size_t compared = 0;
    double max_diff = 0;
    auto expectSame = [&](const gesso::io::SafetensorsFile& file, const std::string& skip) {
      for (const auto& info : file.tensors()) {
        if (!skip.empty() && info.name.find(skip) != std::string::npos) {
          QVERIFY2(!checkpoint.contains(info.name), info.name.c_str());
          continue;
        }
        const auto* source = checkpoint.find(info.name);
        QVERIFY2(source, ("absent after the round trip: " + info.name).c_str());
        QCOMPARE(source->shape, info.shape);
        QCOMPARE(source->dtype, info.dtype);
        const at::Tensor loaded = source->load();
        QVERIFY2(at::equal(loaded, file.tensor(info.name)), info.name.c_str());
        max_diff = std::max(max_diff, (loaded.to(at::kDouble) - file.tensor(info.name).to(at::kDouble)).abs().max().item<double>());
        ++compared;
      }
    };
    expectSame(*unet_file, "");
    expectSame(*vae_file, "");
    expectSame(*text_file, "logit_scale");  // CLIPTextModelWithProjection has no logit_scale
    QCOMPARE(checkpoint.tensors().size(), compared);
    qInfo("diffusers round trip: %zu tensors identical, maxdiff=%g", compared, max_diff);

    gesso::ModelConfig config = gesso::detectConfig(checkpoint.shapes());
    QCOMPARE(config.family, gesso::ModelFamily::SDXL);

    // With config.json files the resolved config is the tiny one exactly (heads included).
    writeText((root / "unet" / "config.json").string(), unet_config.toStdString());
    writeText((root / "vae" / "config.json").string(), R"({"block_out_channels": [32, 64], "layers_per_block": 1,
        "latent_channels": 4, "sample_size": 32, "scaling_factor": 0.18215, "in_channels": 3, "out_channels": 3})");
    const auto resolved = gesso::resolveConfig(Checkpoint::open(root.string()));
    QCOMPARE(QString::fromStdString(resolved.source), QString("diffusers config.json files"));
    if (!gesso::yamlSupported()) return;  // the reference config below is a YAML
    const auto reference = gesso::loadYamlConfig(gesso::test::goldenPath(unet.toStdString() + ".yaml"));
    QCOMPARE(QString::fromStdString(gesso::unetConfigToJson(gesso::canonicalUNet(resolved.config.unet), -1)),
             QString::fromStdString(gesso::unetConfigToJson(gesso::canonicalUNet(*reference.unet), -1)));
    QCOMPARE(QString::fromStdString(gesso::vaeConfigToJson(resolved.config.vae, -1)),
             QString::fromStdString(gesso::vaeConfigToJson(*reference.vae, -1)));
    const auto account = gesso::io::accountKeys(checkpoint, gesso::io::componentPrefixes(config));
    QVERIFY(account.unclaimed.empty());
  }

  // An SD2-style folder: one text encoder whose config says GELU is read back in the open_clip layout.
  void diffusersOpenClipTextEncoder() {
    GESSO_REQUIRE_SHARED();
    QTemporaryDir dir;
    const std::filesystem::path root = dir.path().toStdString();
    std::filesystem::create_directories(root / "unet");
    std::filesystem::create_directories(root / "text_encoder");
    writeText((root / "model_index.json").string(), R"({"_class_name": "StableDiffusionPipeline"})");
    const Tensors unet = allTensors(*gesso::test::openGolden("unet_tiny_linear.safetensors"), "model.diffusion_model.");
    gesso::io::writeSafetensors((root / "unet" / "diffusion_pytorch_model.safetensors").string(),
                                toDiffusers(unet, gesso::io::ldmUNetToDiffusers(namesOf(unet))));
    auto text_file = gesso::test::openGolden("text_openclip_tiny.safetensors");
    const Tensors text = allTensors(*text_file, "cond_stage_model.model.");
    gesso::io::writeSafetensors((root / "text_encoder" / "model.safetensors").string(),
                                toDiffusers(text, gesso::io::openClipToDiffusersClip(namesOf(text))));
    writeText((root / "text_encoder" / "config.json").string(), R"({"hidden_act": "gelu"})");
    const Checkpoint checkpoint = Checkpoint::open(root.string());
    QCOMPARE(checkpoint.namesUnder("cond_stage_model.model.").size(), text.size() - 1);  // no logit_scale
    for (const auto& info : text_file->tensors()) {
      if (info.name.find("logit_scale") != std::string::npos) continue;
      QVERIFY2(checkpoint.contains(info.name), info.name.c_str());
      QVERIFY2(at::equal(checkpoint.load(info.name), text_file->tensor(info.name)), info.name.c_str());
    }
    const gesso::ModelConfig config = gesso::detectConfig(checkpoint.shapes());
    QCOMPARE(config.family, gesso::ModelFamily::SD2);
    QCOMPARE(gesso::resolveConfig(checkpoint).config.prediction, gesso::Prediction::Epsilon);

    // The scheduler's prediction_type says v-prediction (SD 2.x 768-v).
    std::filesystem::create_directories(root / "scheduler");
    writeText((root / "scheduler" / "scheduler_config.json").string(), R"({"prediction_type": "v_prediction"})");
    QCOMPARE(gesso::resolveConfig(Checkpoint::open(root.string())).config.prediction, gesso::Prediction::V);
    writeText((root / "scheduler" / "scheduler_config.json").string(), R"({"prediction_type": "sample"})");
    const QString detail = detailOf([&] { gesso::resolveConfig(Checkpoint::open(root.string())); }, ErrorCode::ConfigError);
    QVERIFY2(detail.contains("scheduler_config.json") && detail.contains("prediction_type"), qPrintable(detail));
  }

  void diffusersFolderErrors() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    QVERIFY(detailOf([&] { Checkpoint::open(root); }, ErrorCode::InvalidFormat).contains("model_index.json"));
    writeText(root + "/model_index.json", "{}");
    QVERIFY(detailOf([&] { Checkpoint::open(root); }, ErrorCode::FileNotFound).contains("unet"));
    QVERIFY(detailOf([&] { Checkpoint::open(root + "/absent.safetensors"); }, ErrorCode::FileNotFound).contains("absent.safetensors"));
  }
};

QTEST_GUILESS_MAIN(CheckpointTest)
#include "test_checkpoint.moc"
