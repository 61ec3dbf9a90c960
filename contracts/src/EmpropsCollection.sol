// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721AUpgradeable} from "erc721a-upgradeable/contracts/ERC721AUpgradeable.sol";
import {ERC721AStorage} from "erc721a-upgradeable/contracts/ERC721AStorage.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {CollectionProfile} from "./CollectionProfile.sol";

/// @title EmpropsCollection
/// @notice One NFT collection, deployed by {EmpropsFactory} as an ERC-1167 clone of this contract and
/// initialized in the same transaction. The platform's minter mints (users pay no gas); the owner (the
/// creator) manages metadata, royalties and the minter. Clones are not upgradeable: a new version is a
/// new implementation registered in the factory, used by collections created after it.
/// @dev Gas shapes the storage: mintTo reads one slot (the mint rules, keyed by the minter), and the
/// rarely-changing strings and addresses live in a code blob ({CollectionProfile}).
/// ERC721A keeps one ownership slot per mint batch, so the first transfer of a late token in a batch
/// scans back to the batch start (2,100 gas per token); mintTo also writes the ownership slot every
/// `ownershipStride` tokens of a batch, which bounds that scan.
contract EmpropsCollection is ERC721AUpgradeable, Initializable, ReentrancyGuardTransient {
    /// @notice What the factory passes to {initialize}.
    /// @param maxSupply Total tokens that can ever exist (token ids run 0 .. maxSupply-1).
    /// @param maxPerTx Most tokens one `mintTo` may mint; 0 means no per-transaction limit.
    /// @param windowLimit Most tokens minted within one window of `windowSeconds`.
    /// @param windowSeconds Window length; 0 turns the window limit off.
    /// @param ownershipStride Ownership is written every this many tokens of a batch (1..255): smaller
    /// bounds the first transfer of any token tighter, at 22,100 gas per extra slot at mint time.
    struct InitParams {
        string name;
        string symbol;
        string baseURI;
        string contractURI;
        address owner;
        address minter;
        address royaltyReceiver;
        uint16 royaltyBps;
        uint32 maxSupply;
        uint16 maxPerTx;
        uint16 windowLimit;
        uint32 windowSeconds;
        uint8 ownershipStride;
    }

    /// @notice The mint rules and the open mint window, packed in one slot.
    struct MintRules {
        uint32 maxSupply;
        uint16 maxPerTx;
        uint16 windowLimit;
        uint32 windowSeconds;
        uint40 windowStart;
        uint32 windowStartIndex;
        uint8 ownershipStride;
    }

    /// @custom:storage-location erc7201:emprops.storage.Collection
    struct CollectionStorage {
        // Slot 0 is also OpenZeppelin's Initializable storage (see _initializableStorageSlot): its
        // first two fields mirror Initializable.InitializableStorage and only Initializable writes them.
        // Sharing the slot saves a 22,100-gas cold write when a collection is created.
        uint64 initializedVersion;
        bool initializing;
        address owner;
        uint16 royaltyBps;
        bool metadataFrozen;
        // Slot 1: the CollectionProfile blob (minter, royalty receiver, strings).
        address profile;
        // Keyed by the minter so that one cold read both authorizes a mint and loads its rules; only
        // the current minter's entry is set.
        mapping(address minter => MintRules) rules;
        mapping(uint256 tokenId => uint256) tokenVersion;
    }

    // keccak256(abi.encode(uint256(keccak256("emprops.storage.Collection")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_SLOT = 0xd5fb09074d15cf3e11482362e9003ae4ee6816c2c76115a41a3843122b621200;

    uint256 private constant ROYALTY_DENOMINATOR = 10_000;

    /// @dev ERC-4906.
    event MetadataUpdate(uint256 _tokenId);
    /// @dev ERC-4906.
    event BatchMetadataUpdate(uint256 _fromTokenId, uint256 _toTokenId);
    /// @dev ERC-7572.
    event ContractURIUpdated();
    event TokenUpgraded(uint256 indexed tokenId, uint256 version);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event MinterUpdated(address indexed previousMinter, address indexed newMinter);
    event RoyaltyUpdated(address indexed receiver, uint16 bps);
    event MetadataFrozen();

    error NotOwner(address caller);
    error NotMinter(address caller);
    error ZeroAddress();
    error ZeroQuantity();
    error InvalidStride();
    error InvalidMaxSupply();
    error InvalidWindow();
    error RoyaltyTooHigh(uint256 bps);
    error PerTransactionLimitExceeded(uint256 quantity, uint256 limit);
    error MaxSupplyExceeded(uint256 requestedEnd, uint256 maxSupply);
    error WindowLimitExceeded(uint256 mintedInWindow, uint256 limit);
    error MetadataIsFrozen();
    error NonexistentToken(uint256 tokenId);
    error VersionNotNewer(uint256 current, uint256 requested);

    modifier onlyOwner() {
        if (msg.sender != _store().owner) revert NotOwner(msg.sender);
        _;
    }

    modifier whenNotFrozen() {
        if (_store().metadataFrozen) revert MetadataIsFrozen();
        _;
    }

    constructor() {
        _disableInitializers();
    }

    /// @notice Sets up a fresh clone; the factory calls it in the transaction that creates the clone.
    function initialize(InitParams calldata p) external initializer {
        if (p.owner == address(0) || p.minter == address(0)) revert ZeroAddress();
        if (p.maxSupply == 0) revert InvalidMaxSupply();
        if (p.windowSeconds != 0 && p.windowLimit == 0) revert InvalidWindow();
        if (p.ownershipStride == 0) revert InvalidStride();
        _checkRoyalty(p.royaltyReceiver, p.royaltyBps);
        CollectionStorage storage $ = _store();
        $.owner = p.owner;
        $.royaltyBps = p.royaltyBps;
        $.rules[p.minter] = MintRules({
            maxSupply: p.maxSupply,
            maxPerTx: p.maxPerTx,
            windowLimit: p.windowLimit,
            windowSeconds: p.windowSeconds,
            windowStart: 0,
            windowStartIndex: 0,
            ownershipStride: p.ownershipStride
        });
        $.profile = CollectionProfile.write(
            CollectionProfile.Profile(p.minter, p.royaltyReceiver, p.name, p.symbol, p.baseURI, p.contractURI)
        );
        emit OwnershipTransferred(address(0), p.owner);
    }

    // ---------------------------------------------------------------- minting

    /// @notice Mints `quantity` consecutive tokens to `to`; returns the first token id.
    /// @dev No receiver callback (like ERC721A `_mint`): the platform mints to wallets it knows.
    function mintTo(address to, uint256 quantity) external returns (uint256 firstTokenId) {
        MintRules storage rules = _store().rules[msg.sender];
        uint256 maxSupply_ = rules.maxSupply;
        if (maxSupply_ == 0) revert NotMinter(msg.sender);
        if (quantity == 0) revert ZeroQuantity();
        uint256 maxPerTx = rules.maxPerTx;
        if (maxPerTx != 0 && quantity > maxPerTx) revert PerTransactionLimitExceeded(quantity, maxPerTx);
        firstTokenId = _nextTokenId();
        uint256 end = firstTokenId + quantity;
        if (end > maxSupply_) revert MaxSupplyExceeded(end, maxSupply_);
        uint256 windowSeconds = rules.windowSeconds;
        if (windowSeconds != 0) _checkWindow(rules, windowSeconds, firstTokenId, end);
        _mint(to, quantity);
        _writeStrideOwnerships(firstTokenId, quantity, rules.ownershipStride);
    }

    /// @dev A window opens at the first mint after the previous one closed and lasts `windowSeconds`;
    /// the slot is rewritten only when a window opens.
    function _checkWindow(MintRules storage rules, uint256 windowSeconds, uint256 start, uint256 end) private {
        uint256 windowStartIndex = rules.windowStartIndex;
        if (block.timestamp >= uint256(rules.windowStart) + windowSeconds) {
            rules.windowStart = uint40(block.timestamp);
            rules.windowStartIndex = uint32(start);
            windowStartIndex = start;
        }
        uint256 minted = end - windowStartIndex;
        if (minted > rules.windowLimit) revert WindowLimitExceeded(minted, rules.windowLimit);
    }

    /// @dev Copies the batch's ownership word into every `stride`-th slot of the batch, so an ownership
    /// lookup never scans more than `stride - 1` empty slots.
    function _writeStrideOwnerships(uint256 start, uint256 quantity, uint256 stride) private {
        if (quantity <= stride) return;
        mapping(uint256 => uint256) storage ownerships = ERC721AStorage.layout()._packedOwnerships;
        uint256 packed = ownerships[start];
        uint256 end = start + quantity;
        for (uint256 i = start + stride; i < end; i += stride) {
            ownerships[i] = packed;
        }
    }

    /// @notice Records that `tokenId` was re-rendered as `version` (the platform's upgrade flow).
    function recordTokenUpgrade(uint256 tokenId, uint256 version) external whenNotFrozen {
        CollectionStorage storage $ = _store();
        if ($.rules[msg.sender].maxSupply == 0) revert NotMinter(msg.sender);
        if (!_exists(tokenId)) revert NonexistentToken(tokenId);
        uint256 current = $.tokenVersion[tokenId];
        if (version <= current) revert VersionNotNewer(current, version);
        $.tokenVersion[tokenId] = version;
        emit TokenUpgraded(tokenId, version);
        emit MetadataUpdate(tokenId);
    }

    // ---------------------------------------------------------------- owner

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        CollectionStorage storage $ = _store();
        emit OwnershipTransferred($.owner, newOwner);
        $.owner = newOwner;
    }

    /// @notice Hands the minter role, with the mint rules and the open window, to `newMinter`.
    function setMinter(address newMinter) external onlyOwner {
        if (newMinter == address(0)) revert ZeroAddress();
        CollectionStorage storage $ = _store();
        CollectionProfile.Profile memory profile = CollectionProfile.read($.profile);
        address previous = profile.minter;
        if (newMinter == previous) return;
        $.rules[newMinter] = $.rules[previous];
        delete $.rules[previous];
        profile.minter = newMinter;
        $.profile = CollectionProfile.write(profile);
        emit MinterUpdated(previous, newMinter);
    }

    function setRoyalty(address receiver, uint16 bps) external onlyOwner {
        _checkRoyalty(receiver, bps);
        CollectionStorage storage $ = _store();
        CollectionProfile.Profile memory profile = CollectionProfile.read($.profile);
        profile.royaltyReceiver = receiver;
        $.profile = CollectionProfile.write(profile);
        $.royaltyBps = bps;
        emit RoyaltyUpdated(receiver, bps);
    }

    function setBaseURI(string calldata newBaseURI) external onlyOwner whenNotFrozen {
        CollectionStorage storage $ = _store();
        CollectionProfile.Profile memory profile = CollectionProfile.read($.profile);
        profile.baseURI = newBaseURI;
        $.profile = CollectionProfile.write(profile);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    /// @notice Collection-level metadata (ERC-7572); stays editable after a metadata freeze.
    function setContractURI(string calldata newContractURI) external onlyOwner {
        CollectionStorage storage $ = _store();
        CollectionProfile.Profile memory profile = CollectionProfile.read($.profile);
        profile.contractURI = newContractURI;
        $.profile = CollectionProfile.write(profile);
        emit ContractURIUpdated();
    }

    /// @notice Freezes token metadata for good: no new base URI, no recorded upgrades.
    function freezeMetadata() external onlyOwner whenNotFrozen {
        _store().metadataFrozen = true;
        emit MetadataFrozen();
    }

    /// @notice Sends ETH that reached the contract (ERC721A's transfer functions are payable).
    function withdrawETH(address payable to) external onlyOwner nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        Address.sendValue(to, address(this).balance);
    }

    // ---------------------------------------------------------------- views

    function owner() external view returns (address) {
        return _store().owner;
    }

    function minter() public view returns (address minter_) {
        (minter_, ) = CollectionProfile.readAddresses(_store().profile);
    }

    function isMinter(address account) external view returns (bool) {
        return _store().rules[account].maxSupply != 0;
    }

    /// @notice The mint rules and the open window (start time, first token id minted in it).
    function mintRules() external view returns (MintRules memory) {
        return _store().rules[minter()];
    }

    function maxSupply() external view returns (uint256) {
        return _store().rules[minter()].maxSupply;
    }

    function metadataFrozen() external view returns (bool) {
        return _store().metadataFrozen;
    }

    function tokenVersion(uint256 tokenId) external view returns (uint256) {
        if (!_exists(tokenId)) revert NonexistentToken(tokenId);
        return _store().tokenVersion[tokenId];
    }

    /// @dev ERC-2981: one receiver (the collection's royalty split) for every token.
    function royaltyInfo(uint256, uint256 salePrice) external view returns (address receiver, uint256 amount) {
        CollectionStorage storage $ = _store();
        (, receiver) = CollectionProfile.readAddresses($.profile);
        amount = (salePrice * $.royaltyBps) / ROYALTY_DENOMINATOR;
    }

    function name() public view override returns (string memory) {
        return CollectionProfile.read(_store().profile).name;
    }

    function symbol() public view override returns (string memory) {
        return CollectionProfile.read(_store().profile).symbol;
    }

    function baseURI() external view returns (string memory) {
        return _baseURI();
    }

    /// @dev ERC-7572.
    function contractURI() external view returns (string memory) {
        return CollectionProfile.read(_store().profile).contractURI;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return
            interfaceId == 0x2a55205a || // ERC-2981
            interfaceId == 0x49064906 || // ERC-4906
            super.supportsInterface(interfaceId); // ERC-165, ERC-721, ERC-721 metadata
    }

    // ---------------------------------------------------------------- internals

    function _baseURI() internal view override returns (string memory) {
        return CollectionProfile.read(_store().profile).baseURI;
    }

    function _checkRoyalty(address receiver, uint16 bps) private pure {
        if (bps > ROYALTY_DENOMINATOR) revert RoyaltyTooHigh(bps);
        if (bps != 0 && receiver == address(0)) revert ZeroAddress();
    }

    function _initializableStorageSlot() internal pure override returns (bytes32) {
        return STORAGE_SLOT;
    }

    function _store() private pure returns (CollectionStorage storage $) {
        assembly {
            $.slot := STORAGE_SLOT
        }
    }
}
