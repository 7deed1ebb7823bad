// LoRA module tables: kohya's names for SD1/SD2/SDXL tiny UNets and text encoders, the module sets LoraNetwork
// trains (counted from the configs), and the aliases (kohya diffusers layout, dotted diffusers/PEFT names).
#include "gesso/lora/lora_names.h"
#include "gesso/lora/lora_network.h"
#include "gesso/nn/layers.h"
#include "pipeline_fixture.h"

#include <QtTest>

#include <regex>
#include <set>

using namespace gesso;

namespace {

struct Networks {
  models::UNet unet{nullptr};
  std::vector<models::TextEncoder> text_encoders;
};

Networks build(const ModelConfig& config) {
  Networks networks;
  const auto options = at::TensorOptions().dtype(at::kFloat);
  networks.unet = models::UNet(config.unet, options);
  for (const auto& text : config.text_encoders) networks.text_encoders.emplace_back(text, options);
  return networks;
}

// Spatial transformers and their depths, counted from the config as sgm's UNetModel lays them out: each level with
// attention has one per input ResBlock and one per output ResBlock (num_res_blocks + 1), plus the middle block's.
std::vector<int> transformerDepths(const UNetConfig& unet) {
  std::vector<int> depths;
  for (size_t level = 0; level < unet.channel_mult.size(); ++level) {
    const int ds = 1 << level;
    if (std::find(unet.attention_resolutions.begin(), unet.attention_resolutions.end(), ds) == unet.attention_resolutions.end()) continue;
    const int count = unet.num_res_blocks[level] + (unet.num_res_blocks[level] + 1);
    for (int i = 0; i < count; ++i) depths.push_back(unet.transformer_depth[level]);
  }
  depths.push_back(unet.transformer_depth_middle >= 0 ? unet.transformer_depth_middle : unet.transformer_depth.back());
  return depths;
}

// kohya's Transformer2DModel set: proj_in, proj_out and per block attn1/attn2 q, k, v, out plus ff.net.0.proj, ff.net.2.
int64_t expectedTransformerModules(const UNetConfig& unet) {
  int64_t count = 0;
  for (int depth : transformerDepths(unet)) count += 2 + 10 * depth;
  return count;
}

// ResnetBlock2D/Downsample2D/Upsample2D layers, from the parameter names (an independent way to find them).
int64_t expectedResidualModules(models::UNet& unet) {
  const std::regex pattern(R"(.*\.(in_layers\.2|out_layers\.3|emb_layers\.1|skip_connection|op|conv)\.weight)");
  int64_t count = 0;
  for (const auto& item : unet->named_parameters()) {
    if (std::regex_match(item.key(), pattern)) ++count;
  }
  return count;
}

}  // namespace

class LoraNamesTest : public QObject {
  Q_OBJECT

  void checkFamily(const char* label, const ModelConfig& config, const std::vector<std::string>& text_prefixes) {
    Networks n = build(config);
    const std::vector<lora::LoraTarget> targets = lora::modelTargets(n.unet, n.text_encoders, config);
    std::set<std::string> names;
    for (const auto& target : targets) {
      QVERIFY2(names.insert(target.name).second, target.name.c_str());
      for (const auto& alias : target.aliases) QVERIFY2(names.insert(alias).second, alias.c_str());
    }
    const int64_t transformer = expectedTransformerModules(config.unet);
    const int64_t residual = expectedResidualModules(n.unet);
    int64_t text = 0;
    for (const auto& encoder : config.text_encoders) text += 6 * encoder.layers;

    lora::LoraOptions options;
    options.rank = 4;
    options.train_text_encoder = true;
    auto network = lora::LoraNetwork::attach(n.unet, n.text_encoders, config, options, 1);
    qInfo("%s: %zu modules (expected %lld transformer + %lld text)", label, network->moduleCount(),
          static_cast<long long>(transformer), static_cast<long long>(text));
    QCOMPARE(static_cast<int64_t>(network->moduleCount()), transformer + text);
    int64_t unet_count = 0, text_count = 0;
    const std::regex unet_name(R"(lora_unet_(input_blocks_\d+_\d+|middle_block_\d+|output_blocks_\d+_\d+)_(proj_in|proj_out|transformer_blocks_\d+_(attn[12]_to_(q|k|v|out_0)|ff_net_0_proj|ff_net_2)))");
    std::string text_alternatives;
    for (const auto& prefix : text_prefixes) text_alternatives += (text_alternatives.empty() ? "" : "|") + prefix;
    const std::regex text_name("(" + text_alternatives + R"()text_model_encoder_layers_\d+_(self_attn_(q|k|v|out)_proj|mlp_fc[12]))");
    for (const auto& name : network->moduleNames()) {
      if (std::regex_match(name, unet_name)) {
        ++unet_count;
      } else {
        QVERIFY2(std::regex_match(name, text_name), name.c_str());
        ++text_count;
      }
    }
    QCOMPARE(unet_count, transformer);
    QCOMPARE(text_count, text);
    network->detach();

    lora::LoraOptions locon;
    locon.rank = 4;
    locon.conv_rank = 2;
    auto with_convs = lora::LoraNetwork::attach(n.unet, n.text_encoders, config, locon, 1);
    qInfo("%s LoCon: %zu modules (expected %lld + %lld)", label, with_convs->moduleCount(),
          static_cast<long long>(transformer), static_cast<long long>(residual));
    QCOMPARE(static_cast<int64_t>(with_convs->moduleCount()), transformer + residual);

    lora::LoraOptions text_only;
    text_only.train_unet = false;
    text_only.train_text_encoder = true;
    QCOMPARE(static_cast<int64_t>(lora::LoraNetwork::attach(n.unet, n.text_encoders, config, text_only, 1)->moduleCount()), text);
  }

  static const lora::LoraTarget* find(const std::vector<lora::LoraTarget>& targets, const std::string& name) {
    for (const auto& target : targets) {
      if (target.name == name) return &target;
    }
    return nullptr;
  }

 private slots:
  void sd1() { checkFamily("SD1", test::tinySd1Config(), {"lora_te_"}); }
  void sd2() { checkFamily("SD2", test::tinySd2Config(), {"lora_te_"}); }
  void sdxl() { checkFamily("SDXL", test::tinySdxlConfig(), {"lora_te1_", "lora_te2_"}); }

  // Known names of real LoRAs on the tiny layouts (two levels, one ResBlock each, attention on both).
  void sd1NamesAndAliases() {
    const ModelConfig config = test::tinySd1Config();
    Networks n = build(config);
    const auto targets = lora::modelTargets(n.unet, n.text_encoders, config);
    struct Case {
      const char* kohya;
      const char* diffusers_kohya;
      const char* dotted;
    };
    const Case cases[] = {
        {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q",
         "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
         "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"},
        {"lora_unet_input_blocks_3_1_proj_in", "lora_unet_down_blocks_1_attentions_0_proj_in", "unet.down_blocks.1.attentions.0.proj_in"},
        {"lora_unet_middle_block_1_transformer_blocks_0_attn2_to_out_0",
         "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0",
         "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0"},
        {"lora_unet_output_blocks_3_1_transformer_blocks_0_ff_net_0_proj",
         "lora_unet_up_blocks_1_attentions_1_transformer_blocks_0_ff_net_0_proj",
         "unet.up_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj"},
        {"lora_unet_input_blocks_1_0_in_layers_2", "lora_unet_down_blocks_0_resnets_0_conv1", "unet.down_blocks.0.resnets.0.conv1"},
        {"lora_unet_input_blocks_2_0_op", "lora_unet_down_blocks_0_downsamplers_0_conv", "unet.down_blocks.0.downsamplers.0.conv"},
        {"lora_unet_output_blocks_1_2_conv", "lora_unet_up_blocks_0_upsamplers_0_conv", "unet.up_blocks.0.upsamplers.0.conv"},
    };
    for (const Case& c : cases) {
      const lora::LoraTarget* target = find(targets, c.kohya);
      QVERIFY2(target, c.kohya);
      QVERIFY2(std::count(target->aliases.begin(), target->aliases.end(), c.diffusers_kohya) == 1, c.diffusers_kohya);
      QVERIFY2(std::count(target->aliases.begin(), target->aliases.end(), c.dotted) == 1, c.dotted);
    }
    const lora::LoraTarget* q = find(targets, "lora_te_text_model_encoder_layers_1_self_attn_q_proj");
    QVERIFY(q);
    QCOMPARE(q->aliases, std::vector<std::string>{"text_encoder.text_model.encoder.layers.1.self_attn.q_proj"});
    QVERIFY(find(targets, "lora_te_text_model_encoder_layers_0_mlp_fc2"));
  }

  // open_clip layers take the HF names: in_proj rows split into q/k/v, c_fc/c_proj as fc1/fc2.
  void openClipNames() {
    const ModelConfig config = test::tinySdxlConfig();
    Networks n = build(config);
    const auto targets = lora::modelTargets(n.unet, n.text_encoders, config);
    const int64_t width = config.text_encoders[1].width;
    const char* parts[3] = {"q", "k", "v"};
    for (int64_t i = 0; i < 3; ++i) {
      const lora::LoraTarget* target = find(targets, std::string("lora_te2_text_model_encoder_layers_1_self_attn_") + parts[i] + "_proj");
      QVERIFY(target);
      QCOMPARE(target->row_offset, i * width);
      QCOMPARE(target->rows, width);
      QCOMPARE(target->weight.size(0), 3 * width);
      QCOMPARE(target->aliases.at(0), std::string("text_encoder_2.text_model.encoder.layers.1.self_attn.") + parts[i] + "_proj");
    }
    QVERIFY(find(targets, "lora_te2_text_model_encoder_layers_0_mlp_fc1"));
    QVERIFY(find(targets, "lora_te1_text_model_encoder_layers_0_self_attn_out_proj"));
    QVERIFY(find(targets, "lora_unet_input_blocks_3_1_transformer_blocks_0_attn1_to_k"));
  }
};

QTEST_GUILESS_MAIN(LoraNamesTest)
#include "test_lora_names.moc"
