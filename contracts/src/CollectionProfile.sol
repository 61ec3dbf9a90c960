// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CollectionProfile
/// @notice A collection's rarely-changing data (minter, royalty receiver, name, symbol, base URI,
/// contract URI) kept in the code of a small data contract instead of in storage: code costs 200 gas
/// a byte, storage about 690. It is what keeps creating a collection with real IPFS URIs under 250k
/// gas. An update deploys a new blob; nothing on the mint or transfer path reads it.
/// @dev Blob layout (after a leading STOP byte that makes the contract inert): minter (20 bytes),
/// royalty receiver (20 bytes), then each string as a 2-byte big-endian length and its bytes.
library CollectionProfile {
    struct Profile {
        address minter;
        address royaltyReceiver;
        string name;
        string symbol;
        string baseURI;
        string contractURI;
    }

    /// @notice A string is longer than the 2-byte length prefix of the blob format allows.
    error ProfileStringTooLong(uint256 length);
    /// @notice The data contract could not be created (over the EIP-170 size limit, or out of gas).
    error ProfileDeploymentFailed();
    /// @notice The blob's length prefixes run past its end: the pointer is not a profile blob.
    error ProfileCorrupt(address pointer);

    uint256 private constant _HEADER_END = 41; // STOP byte + two addresses

    /// @notice Deploys a blob holding `profile` and returns its address.
    function write(Profile memory profile) internal returns (address pointer) {
        bytes memory runtime = abi.encodePacked(
            hex"00",
            profile.minter,
            profile.royaltyReceiver,
            _encode(profile.name),
            _encode(profile.symbol),
            _encode(profile.baseURI),
            _encode(profile.contractURI)
        );
        // Creation code that returns the bytes after its own 12 as the runtime code:
        // PUSH2 len, DUP1, PUSH1 0x0c, PUSH1 0, CODECOPY, PUSH1 0, RETURN.
        bytes memory initcode = abi.encodePacked(
            hex"61",
            uint16(runtime.length),
            hex"80600c6000396000f3",
            runtime
        );
        assembly ("memory-safe") {
            pointer := create(0, add(initcode, 0x20), mload(initcode))
        }
        if (pointer == address(0)) revert ProfileDeploymentFailed();
    }

    /// @notice Reads back everything written by {write}.
    function read(address pointer) internal view returns (Profile memory profile) {
        bytes memory code = pointer.code;
        if (code.length < _HEADER_END) revert ProfileCorrupt(pointer);
        (profile.minter, profile.royaltyReceiver) = _header(code);
        uint256 offset = _HEADER_END;
        (profile.name, offset) = _decode(pointer, code, offset);
        (profile.symbol, offset) = _decode(pointer, code, offset);
        (profile.baseURI, offset) = _decode(pointer, code, offset);
        (profile.contractURI, ) = _decode(pointer, code, offset);
    }

    /// @notice Reads only the two addresses (copies 41 bytes instead of the whole blob).
    function readAddresses(address pointer) internal view returns (address minter, address royaltyReceiver) {
        bytes memory head = new bytes(_HEADER_END);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(head, 0x20), 0, _HEADER_END)
        }
        return _header(head);
    }

    function _header(bytes memory code) private pure returns (address minter, address royaltyReceiver) {
        assembly ("memory-safe") {
            minter := shr(96, mload(add(code, 0x21)))
            royaltyReceiver := shr(96, mload(add(code, 0x35)))
        }
    }

    function _encode(string memory value) private pure returns (bytes memory) {
        uint256 length = bytes(value).length;
        if (length > type(uint16).max) revert ProfileStringTooLong(length);
        return abi.encodePacked(uint16(length), value);
    }

    function _decode(
        address pointer,
        bytes memory code,
        uint256 offset
    ) private pure returns (string memory value, uint256 next) {
        if (offset + 2 > code.length) revert ProfileCorrupt(pointer);
        uint256 length = (uint256(uint8(code[offset])) << 8) | uint256(uint8(code[offset + 1]));
        next = offset + 2 + length;
        if (next > code.length) revert ProfileCorrupt(pointer);
        bytes memory out = new bytes(length);
        assembly ("memory-safe") {
            mcopy(add(out, 0x20), add(add(code, 0x20), add(offset, 2)), length)
        }
        value = string(out);
    }
}
