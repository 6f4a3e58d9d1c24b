// SHA-256 over (name, type byte, data) of every tensor, in sorted-name order, of the files that
// llama-quantize (llama.cpp 82bb485, built outside this repo) wrote from test/quantize mini256-f32.gguf
// (writeSyntheticModel with MINI256 below). Recorded once with that build; our quantizer must match byte for byte.
export const LLAMA_QUANTIZE_SHA256: Record<string, string> = {
  Q8_0: "34c76f38681ac96c844aa6a2af6a1f3cb0bff76e12ba3f3fd18b524c19d2ea10",
  Q4_0: "91c74204af2b75177299c0e3daed35bd8218b41536688b57baf96762f0b71bbf",
  Q4_1: "5c01d4d9135c62e5e45d93c7357996edec7dd29f974872ac5b47854e6f11d676",
  Q5_0: "f46becfe03751d3350d62239f6bec45fd418c40b500a968b7e7795b24bf550c6",
  Q5_1: "68343176850119ce210702580c6779ea979d9f5abacecf01d414e4b794693443",
  Q6_K: "83a2cd5c50ed6c377783d53fda73bce582fef889421a92c178cb2fd5adabc7d0",
  Q5_K_M: "b341b0920967f8334fdb5ed6414189ea260daf0e110912d8e00f9a77d339ceed",
  Q4_K_M: "658e60f250e09cf42627b520d683a9e3fa3bf16bae5529cb22cfc058cd71eba0",
  Q3_K_M: "a4763ce4bf6f1f38f57b1d19cc1c21853b53ea6f08ef7318830684c1ffb0d2a1",
  Q2_K: "4b7f4134dc00c3cfe3985ae229f094862006a23bd0a11b7d2a476f051aa756f8",
  Q4_K_S: "836a1b04ec5cd726deafe7eb57cf475a109aa2e3500d28b330a2b77270002e17",
  Q5_K_S: "0b7003c6bab51624bd2267575742912ed7fdaca4365d305ddfbf92cbbdd9e53a",
  Q3_K_S: "dc9447b6d2a7dfc2d285eca542f217ecd40da3f15b4432d21351a394d0ee5a62",
  Q3_K_L: "278031ea04740fe9c9d692f9649858d9d921be436c442a98a051cc7b5bc2ce27"
};
