// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {EmpropsCollection} from "./EmpropsCollection.sol";

/// @title EmpropsFactory
/// @notice Creates collections as ERC-1167 clones at CREATE2 addresses known in advance. The salt
/// binds the creator (the sender), so nobody can take a creator's address first. Runs behind an
/// ERC1967 proxy; only the owner (a multisig in production) registers versions and upgrades.
contract EmpropsFactory is Initializable, OwnableUpgradeable, UUPSUpgradeable {
    /// @custom:storage-location erc7201:emprops.storage.Factory
    struct FactoryStorage {
        mapping(uint256 version => address) implementations;
        uint256 latestVersion;
    }

    // keccak256(abi.encode(uint256(keccak256("emprops.storage.Factory")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0x4fcad24d9892c5decc4a3112c0714c6d4521d45eff327197fa6fc0c0e6f2c400;

    event ImplementationRegistered(uint256 indexed version, address indexed implementation);
    event CollectionCreated(
        address indexed collection,
        address indexed creator,
        uint256 indexed version,
        address owner,
        bytes32 userSalt
    );

    error UnknownVersion(uint256 version);
    error NotAContract(address implementation);

    constructor() {
        _disableInitializers();
    }

    function initialize(address initialOwner) external initializer {
        __Ownable_init(initialOwner);
    }

    /// @notice Adds a collection implementation as the next version (1, 2, ...).
    function registerImplementation(address implementation) external onlyOwner returns (uint256 version) {
        if (implementation.code.length == 0) revert NotAContract(implementation);
        FactoryStorage storage $ = _store();
        version = ++$.latestVersion;
        $.implementations[version] = implementation;
        emit ImplementationRegistered(version, implementation);
    }

    /// @notice Clones version `version` for the sender and initializes it, in one transaction.
    function createCollection(
        uint256 version,
        bytes32 userSalt,
        EmpropsCollection.InitParams calldata params
    ) external returns (address collection) {
        collection = Clones.cloneDeterministic(collectionImplementation(version), collectionSalt(msg.sender, userSalt));
        EmpropsCollection(collection).initialize(params);
        emit CollectionCreated(collection, msg.sender, version, params.owner, userSalt);
    }

    /// @notice The address `createCollection(version, userSalt, ...)` sent by `creator` deploys to.
    function predictAddress(address creator, bytes32 userSalt, uint256 version) external view returns (address) {
        return Clones.predictDeterministicAddress(collectionImplementation(version), collectionSalt(creator, userSalt));
    }

    function collectionSalt(address creator, bytes32 userSalt) public pure returns (bytes32) {
        return keccak256(abi.encode(creator, userSalt));
    }

    function collectionImplementation(uint256 version) public view returns (address implementation) {
        implementation = _store().implementations[version];
        if (implementation == address(0)) revert UnknownVersion(version);
    }

    function latestVersion() external view returns (uint256) {
        return _store().latestVersion;
    }

    /// @notice Version of the factory code itself (bumped by upgrades).
    function factoryVersion() external pure virtual returns (uint256) {
        return 1;
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}

    function _store() private pure returns (FactoryStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
