/* One AV1 still frame through libaom (built for wasm32 by scripts/build.sh), for AVIF.
 *
 * A thin C layer so the Rust side needs no bindings to libaom's structs (whose layout
 * differs between wasm32 and the 64-bit targets libaom-sys's bindings were generated for)
 * and makes no variadic calls (aom_codec_control). Settings follow libavif's codec_aom.c
 * for still images: all-intra usage, constant quality, one thread, reduced still-picture
 * header (g_limit = 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aom/aom_encoder.h"
#include "aom/aomcx.h"

/* Result codes, mirrored in src/encode/aom.rs. */
#define STILL_OK 0
#define STILL_CONFIG 1
#define STILL_INIT 2
#define STILL_ENCODE 3
#define STILL_NO_OUTPUT 4
#define STILL_OUT_OF_MEMORY 5

/* Encodes `plane_count` (3: colour; 1: monochrome, for alpha) planes of `depth`-bit samples
 * (8 or 10; 16-bit storage either way): luma width * height, chroma the same or, when
 * `subsampled` (4:2:0), ceil(width / 2) * ceil(height / 2). On success *out (malloc'd: the caller frees it) holds the temporal unit,
 * and recon[p] (width * height samples each, owned by the caller) what a decoder shows. */
int mediaslim_aom_encode_still(const uint16_t *const *planes, int plane_count, int depth, int subsampled,
                               unsigned width, unsigned height,
                               int cq_level, int cpu_used, uint8_t **out, size_t *out_len,
                               uint16_t *const *recon) {
  *out = NULL;
  *out_len = 0;
  const int monochrome = plane_count == 1;
  const int high = depth > 8;
  aom_codec_iface_t *iface = aom_codec_av1_cx();
  aom_codec_enc_cfg_t cfg;
  if (aom_codec_enc_config_default(iface, &cfg, AOM_USAGE_ALL_INTRA) != AOM_CODEC_OK) return STILL_CONFIG;
  cfg.g_w = width;
  cfg.g_h = height;
  cfg.g_bit_depth = high ? AOM_BITS_10 : AOM_BITS_8;
  cfg.g_input_bit_depth = (unsigned)depth;
  const int shift = monochrome || subsampled;
  cfg.g_profile = shift ? 0 : 1; /* 4:4:4 needs the High profile; 4:2:0 and 4:0:0 are Main */
  cfg.monochrome = monochrome;
  cfg.g_threads = 1;
  cfg.g_limit = 1; /* one frame: a still picture with the reduced header */
  cfg.g_lag_in_frames = 0;
  cfg.rc_end_usage = AOM_Q;
  cfg.rc_min_quantizer = 0;
  cfg.rc_max_quantizer = 63;

  aom_codec_ctx_t ctx;
  if (aom_codec_enc_init(&ctx, iface, &cfg, high ? AOM_CODEC_USE_HIGHBITDEPTH : 0) != AOM_CODEC_OK) return STILL_INIT;
  int ok = aom_codec_control(&ctx, AOME_SET_CPUUSED, cpu_used) == AOM_CODEC_OK &&
           aom_codec_control(&ctx, AOME_SET_CQ_LEVEL, cq_level) == AOM_CODEC_OK &&
           aom_codec_control(&ctx, AV1E_SET_COLOR_RANGE, AOM_CR_FULL_RANGE) == AOM_CODEC_OK;
  /* Tuned for image quality (libaom 3.12+, all-intra only: quantizer matrices, chroma delta-q,
   * sharpness, CDEF for stills; what sharp and avifenc use): at equal SSIMULACRA2, 8-21% fewer
   * bytes than 3.11's tune=ssim on 4 corpus photos, in about the same time. */
  if (ok) ok = aom_codec_control(&ctx, AOME_SET_TUNING, AOM_TUNE_IQ) == AOM_CODEC_OK;
  if (ok && !monochrome) {
    /* sRGB content converted with BT.601 coefficients (src/encode/avif.rs). */
    ok = aom_codec_control(&ctx, AV1E_SET_COLOR_PRIMARIES, AOM_CICP_CP_BT_709) == AOM_CODEC_OK &&
         aom_codec_control(&ctx, AV1E_SET_TRANSFER_CHARACTERISTICS, AOM_CICP_TC_SRGB) == AOM_CODEC_OK &&
         aom_codec_control(&ctx, AV1E_SET_MATRIX_COEFFICIENTS, AOM_CICP_MC_BT_601) == AOM_CODEC_OK;
  }
  if (!ok) {
    aom_codec_destroy(&ctx);
    return STILL_CONFIG;
  }

  /* libaom takes 8-bit samples as bytes: narrow them once. It reads chroma planes even for
   * monochrome input: give it neutral ones (as libavif does). */
  const size_t bytes_per = high ? 2 : 1, samples = (size_t)width * height;
  const size_t cw = shift ? (width + 1) / 2 : width, ch = shift ? (height + 1) / 2 : height;
  unsigned char *narrow = NULL, *neutral = NULL;
  const unsigned char *input[3];
  if (!high) {
    narrow = malloc(samples + 2 * cw * ch);
    if (!narrow) {
      aom_codec_destroy(&ctx);
      return STILL_OUT_OF_MEMORY;
    }
    unsigned char *next = narrow;
    for (int p = 0; p < plane_count; p++) {
      const size_t n = p == 0 ? samples : cw * ch;
      for (size_t i = 0; i < n; i++) next[i] = (unsigned char)planes[p][i];
      input[p] = next;
      next += n;
    }
  } else {
    for (int p = 0; p < plane_count; p++) input[p] = (const unsigned char *)planes[p];
  }
  if (monochrome) {
    neutral = malloc(cw * ch * bytes_per);
    if (!neutral) {
      free(narrow);
      aom_codec_destroy(&ctx);
      return STILL_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < cw * ch; i++) {
      if (high) ((uint16_t *)neutral)[i] = (uint16_t)(1 << (depth - 1));
      else neutral[i] = 128;
    }
    input[1] = input[2] = neutral;
  }
  aom_image_t img;
  memset(&img, 0, sizeof img);
  img.fmt = shift ? (high ? AOM_IMG_FMT_I42016 : AOM_IMG_FMT_I420) : (high ? AOM_IMG_FMT_I44416 : AOM_IMG_FMT_I444);
  img.bit_depth = high ? 16 : 8;
  img.w = img.d_w = width;
  img.h = img.d_h = height;
  img.monochrome = monochrome;
  img.range = AOM_CR_FULL_RANGE;
  img.x_chroma_shift = img.y_chroma_shift = (unsigned)shift;
  for (int p = 0; p < 3; p++) {
    img.planes[p] = (unsigned char *)input[p];
    img.stride[p] = (int)((p == 0 ? width : cw) * bytes_per);
  }

  int status = STILL_OK;
  uint8_t *data = NULL;
  size_t size = 0;
  int have_recon = 0;
  for (int flushing = 0; flushing < 2 && status == STILL_OK; flushing++) {
    if (aom_codec_encode(&ctx, flushing ? NULL : &img, 0, 1, 0) != AOM_CODEC_OK) {
      status = STILL_ENCODE;
      break;
    }
    const aom_codec_cx_pkt_t *pkt;
    aom_codec_iter_t iter = NULL;
    while ((pkt = aom_codec_get_cx_data(&ctx, &iter)) != NULL) {
      if (pkt->kind != AOM_CODEC_CX_FRAME_PKT) continue;
      uint8_t *grown = realloc(data, size + pkt->data.frame.sz);
      if (!grown) {
        status = STILL_OUT_OF_MEMORY;
        break;
      }
      data = grown;
      memcpy(data + size, pkt->data.frame.buf, pkt->data.frame.sz);
      size += pkt->data.frame.sz;
    }
    if (!flushing && !have_recon) {
      /* The reconstructed (decoded, loop-filtered) frame: what `quality: "auto"` scores. */
      const aom_image_t *preview = aom_codec_get_preview_frame(&ctx);
      const int preview_high = preview && (preview->fmt & AOM_IMG_FMT_HIGHBITDEPTH);
      if (preview && preview_high == high && preview->d_w == width && preview->d_h == height) {
        for (int p = 0; p < plane_count; p++) {
          const size_t pw = p == 0 ? width : cw, ph = p == 0 ? height : ch;
          for (size_t row = 0; row < ph; row++) {
            const unsigned char *line = preview->planes[p] + row * (size_t)preview->stride[p];
            uint16_t *dst = recon[p] + row * pw;
            if (high) memcpy(dst, line, pw * 2);
            else for (size_t x = 0; x < pw; x++) dst[x] = line[x];
          }
        }
        have_recon = 1;
      }
    }
  }
  free(neutral);
  free(narrow);
  aom_codec_destroy(&ctx);
  if (status == STILL_OK && (size == 0 || !have_recon)) status = STILL_NO_OUTPUT;
  if (status != STILL_OK) {
    free(data);
    return status;
  }
  *out = data;
  *out_len = size;
  return STILL_OK;
}
