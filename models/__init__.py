"""Online ML: registry loading, retrieval, features, ranking, exploration, rules, reasons."""
