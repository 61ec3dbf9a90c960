function computeCost(context) {
  const { size } = context;
  const cost = size > 512 ? 2 : 0.5;
  return { cost };
}
