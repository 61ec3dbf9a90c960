function computeCost() {
  return { cost: 1 };
}
