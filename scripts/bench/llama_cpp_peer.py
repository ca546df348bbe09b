"""The llama.cpp peer of scripts/bench-openlora.sh: single-stream greedy decoding of a GGUF file
with llama-cpp-python, prompt evaluation measured apart from decoding.

    python llama_cpp_peer.py MODEL.gguf "PROMPT" TOKENS THREADS

Prints the figures, then `tokens_per_s=X` (decode tokens/s) on its last line.
"""

import sys
import time

import llama_cpp


def main() -> None:
    path, prompt, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    llm = llama_cpp.Llama(
        model_path=path,
        n_ctx=512,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        verbose=False,
    )
    # Our engine encodes without a beginning-of-sequence token: the same tokens here.
    tokens = llm.tokenize(prompt.encode(), add_bos=False, special=False)

    def run(n: int) -> tuple[float, float, list[int]]:
        """Generates n tokens greedily; returns the seconds to the first token (prompt
        evaluation and one sample) and the seconds of the n - 1 decode steps after it."""
        start = time.perf_counter()
        first = 0.0
        out: list[int] = []
        # temp 0 is llama-cpp-python's greedy sampler; generate does not stop at end of text.
        for token in llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
            out.append(token)
            if len(out) == 1:
                first = time.perf_counter()
            if len(out) >= n:
                break
        return first - start, time.perf_counter() - first, out

    run(8)  # warm-up
    llm.reset()  # so that the measured run evaluates its whole prompt again
    prompt_seconds, decode_seconds, out = run(count)
    rate = (count - 1) / decode_seconds
    print(
        f"llama.cpp {llama_cpp.__version__} ({threads} threads), {len(tokens)} prompt tokens: "
        f"prompt and first token {prompt_seconds * 1e3:.1f} ms; {count - 1} greedy decode "
        f"tokens after the first in {decode_seconds:.2f} s = {rate:.1f} tokens/s"
    )
    print(f"text: {llm.detokenize(out[:24]).decode(errors='replace')!r}...")
    print(f"tokens_per_s={rate:.2f}")


if __name__ == "__main__":
    main()
