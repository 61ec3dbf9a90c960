function computeCost(context) {
  let cost = 0;
  for (let i = 0; i < context.count; i++) { cost += 1; }
  return { cost };
}
