// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title EmpropsSplit
/// @notice An immutable ETH splitter for local chains (on public chains we use 0xSplits). Each split
/// is a clone whose recipients and allocations are appended to its code as immutable arguments:
/// 20-byte account + 4-byte allocation per recipient, allocations out of 1e6.
/// @dev Anyone may distribute; distribution credits each recipient floor(amount * allocation / 1e6)
/// and leaves the remainder (fewer wei than recipients) in the split for the next distribution.
/// Recipients (or anyone on their behalf) withdraw their credit. Senders must forward more than the
/// 2,300-gas stipend: the clone's delegatecall alone costs 2,600.
contract EmpropsSplit is ReentrancyGuardTransient {
    uint256 public constant PERCENTAGE_SCALE = 1e6;
    uint256 private constant _ENTRY_SIZE = 24;

    address private immutable _self;

    mapping(address account => uint256) private _withdrawable;
    uint256 private _totalWithdrawable;

    event ETHReceived(address indexed sender, uint256 amount);
    event ETHDistributed(address indexed distributor, uint256 amount, uint256 credited);
    event Withdrawal(address indexed account, uint256 amount);

    error NotAClone();
    error NothingToWithdraw(address account);

    modifier onlyClone() {
        if (address(this) == _self) revert NotAClone();
        _;
    }

    constructor() {
        _self = address(this);
    }

    receive() external payable onlyClone {}

    /// @notice The recipients, sorted, and their allocations out of {PERCENTAGE_SCALE}.
    function recipients() public view onlyClone returns (address[] memory accounts, uint32[] memory allocations) {
        bytes memory args = Clones.fetchCloneArgs(address(this));
        uint256 count = args.length / _ENTRY_SIZE;
        accounts = new address[](count);
        allocations = new uint32[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(args, 0x20), mul(i, _ENTRY_SIZE)))
            }
            accounts[i] = address(uint160(word >> 96));
            allocations[i] = uint32(word >> 64);
        }
    }

    /// @notice ETH held but not yet credited to anyone.
    function distributable() public view returns (uint256) {
        return address(this).balance - _totalWithdrawable;
    }

    /// @notice Credits every recipient its share of {distributable}; returns the amount split.
    function distributeETH() external onlyClone returns (uint256 amount) {
        amount = distributable();
        (address[] memory accounts, uint32[] memory allocations) = recipients();
        uint256 credited = 0;
        for (uint256 i = 0; i < accounts.length; ++i) {
            uint256 share = (amount * allocations[i]) / PERCENTAGE_SCALE;
            _withdrawable[accounts[i]] += share;
            credited += share;
        }
        _totalWithdrawable += credited;
        emit ETHDistributed(msg.sender, amount, credited);
    }

    /// @notice Pays `account` everything credited to it.
    function withdraw(address account) external nonReentrant returns (uint256 amount) {
        amount = _withdrawable[account];
        if (amount == 0) revert NothingToWithdraw(account);
        _withdrawable[account] = 0;
        _totalWithdrawable -= amount;
        Address.sendValue(payable(account), amount);
        emit Withdrawal(account, amount);
    }

    function withdrawable(address account) external view returns (uint256) {
        return _withdrawable[account];
    }

    function totalWithdrawable() external view returns (uint256) {
        return _totalWithdrawable;
    }
}
