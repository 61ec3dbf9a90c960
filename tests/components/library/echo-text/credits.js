function computeCost(context) {
  let cost = 1;
  if (context.count > 5) {
    cost = 3;
  } else if (context.count > 2) {
    cost = 2;
  }
  return { cost: cost, details: { count: context.count } };
}
