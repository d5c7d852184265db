/**
 * Polynomial learning-rate decay per iteration (SAK / MTL-PyTorch's `PolynomialLR`, PyTorch's
 * `LambdaLR(lambda i: (1 − i/T)**power)`): the update of iteration `i` (0-based) uses
 * `base·(1 − i/T)^power`, so the first update uses the full rate and 0 is reached only after the last
 * (iteration `T`); iterations past `T` stay at 0.
 * @param base learning rate at iteration 0
 * @param iteration 0-based update index
 * @param totalIterations `T` (> 0)
 * @param power default 0.9
 * @example
 * polynomialLR(2e-5, 0, 40000); // 2e-5
 * polynomialLR(2e-5, 20000, 40000); // 2e-5 · 0.5^0.9
 */
export function polynomialLR(base: number, iteration: number, totalIterations: number, power = 0.9): number {
  if (!(totalIterations > 0))
    throw new Error(`polynomialLR: totalIterations must be > 0, got ${totalIterations}`);
  if (!(iteration >= 0)) throw new Error(`polynomialLR: iteration must be >= 0, got ${iteration}`);
  return base * Math.max(0, 1 - iteration / totalIterations) ** power;
}
