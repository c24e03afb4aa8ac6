"""klingsim_contracts: check clients and gateways against each provider's documented behaviour."""
