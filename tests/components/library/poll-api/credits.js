function computeCost(context) {
  return { cost: 0.25 };
}
