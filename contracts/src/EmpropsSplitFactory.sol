// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {EmpropsSplit} from "./EmpropsSplit.sol";

/// @title EmpropsSplitFactory
/// @notice Creates immutable {EmpropsSplit}s at addresses that depend only on their recipients and
/// allocations (CREATE2 over a clone carrying them as immutable arguments), so the same split always
/// lands at the same address and can be predicted before it exists. Same shape as 0xSplits'
/// immutable splits: recipients sorted ascending, allocations out of 1e6.
contract EmpropsSplitFactory {
    uint256 public constant PERCENTAGE_SCALE = 1e6;

    address public immutable splitImplementation;

    event SplitCreated(address indexed split, address[] accounts, uint32[] percentAllocations);

    error TooFewAccounts(uint256 count);
    error LengthMismatch(uint256 accounts, uint256 allocations);
    error AccountsNotSorted(uint256 index);
    error ZeroAllocation(uint256 index);
    error AllocationsSumInvalid(uint256 sum);

    constructor() {
        splitImplementation = address(new EmpropsSplit());
    }

    /// @notice Creates the split, or returns it if it already exists.
    function createSplit(
        address[] calldata accounts,
        uint32[] calldata percentAllocations
    ) external returns (address split) {
        bytes memory args = _encode(accounts, percentAllocations);
        split = Clones.predictDeterministicAddressWithImmutableArgs(splitImplementation, args, bytes32(0));
        if (split.code.length != 0) return split;
        Clones.cloneDeterministicWithImmutableArgs(splitImplementation, args, bytes32(0));
        emit SplitCreated(split, accounts, percentAllocations);
    }

    function predictSplitAddress(
        address[] calldata accounts,
        uint32[] calldata percentAllocations
    ) external view returns (address) {
        bytes memory args = _encode(accounts, percentAllocations);
        return Clones.predictDeterministicAddressWithImmutableArgs(splitImplementation, args, bytes32(0));
    }

    function _encode(
        address[] calldata accounts,
        uint32[] calldata allocations
    ) private pure returns (bytes memory args) {
        uint256 count = accounts.length;
        if (count < 2) revert TooFewAccounts(count);
        if (allocations.length != count) revert LengthMismatch(count, allocations.length);
        uint256 sum = 0;
        args = new bytes(count * 24);
        for (uint256 i = 0; i < count; ++i) {
            // Strictly ascending also rules out duplicates and the zero address.
            if (accounts[i] <= (i == 0 ? address(0) : accounts[i - 1])) revert AccountsNotSorted(i);
            if (allocations[i] == 0) revert ZeroAllocation(i);
            sum += allocations[i];
            uint256 entry = (uint256(uint160(accounts[i])) << 96) | (uint256(allocations[i]) << 64);
            assembly ("memory-safe") {
                // 32-byte store; its last 8 bytes are overwritten by the next entry (or lie past the end).
                mstore(add(add(args, 0x20), mul(i, 24)), entry)
            }
        }
        if (sum != PERCENTAGE_SCALE) revert AllocationsSumInvalid(sum);
    }
}
