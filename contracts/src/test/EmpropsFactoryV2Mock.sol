// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EmpropsFactory} from "../EmpropsFactory.sol";

/// @notice Test-only upgrade target: proves a factory upgrade keeps registered versions and state.
contract EmpropsFactoryV2Mock is EmpropsFactory {
    function factoryVersion() external pure override returns (uint256) {
        return 2;
    }
}
